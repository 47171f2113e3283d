package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticFlowAr;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera bench flowar}: seconds per image with random weights of a released FlowAR size. */
@Command(
        name = "flowar",
        sortOptions = false,
        header = "FlowAR-S/L/H with MAR's KL-16 VAE, the size's official settings",
        description = {
            "Random weights of a FlowAR size (the size's FlowArSettings, seed 1); warm-up until steady, then N timed",
            "runs.",
            ""
        })
final class FlowArBench extends FamilyBench<FlowArSettings, FlowArDetails> {
    @Option(names = "--size", paramLabel = "SIZE", description = "S (default), L or H")
    String size = "S";

    @Option(names = "--steps", paramLabel = "N", description = "solver steps (default: the size's official count)")
    Integer steps;

    private SyntheticFlowAr.Size shape;
    private Path model, vae;

    FlowArBench(PrintStream out) {
        super(out, 2);
    }

    @Override
    void check() {
        try {
            shape = SyntheticFlowAr.Size.of(size);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (steps != null && steps < 2) throw new UsageException("--steps must be at least 2");
    }

    @Override
    long writeWeights(Path dir) {
        RandomWeights mw = SyntheticFlowAr.model(shape, 1), vw = SyntheticFlowAr.kl16(2);
        model = mw.writeTo(dir.resolve("FlowAR-" + shape.name() + ".safetensors"));
        vae = vw.writeTo(dir.resolve("kl16.safetensors"));
        return mw.bytes() + vw.bytes();
    }

    @Override
    Pipeline<FlowArSettings, FlowArDetails> load(Ops ops, WeightPanels.Format weights) {
        return FlowArPipeline.builder()
                .model(model)
                .vae(vae)
                .ops(ops)
                .weights(weights)
                .load();
    }

    @Override
    String loaded(long weightBytes) {
        return String.format("FlowAR-%s (%.2f GB with the KL-16 VAE),", shape.name(), weightBytes / 1e9);
    }

    @Override
    String model() {
        return "FlowAR-" + shape.name() + " (random weights), KL-16";
    }

    @Override
    FlowArSettings settings(Pipeline<FlowArSettings, FlowArDetails> pipe) {
        return steps != null ? pipe.defaults().withSteps(steps) : pipe.defaults();
    }

    @Override
    long seed() {
        return 1;
    }

    @Override
    String breakdown(FlowArDetails d) {
        return String.format("AR %.2f, flow %.2f, decode %.2f", d.arSeconds(), d.flowSeconds(), d.decodeSeconds());
    }

    private double perImage(Runs<FlowArDetails> runs, ToDoubleFunction<FlowArDetails> f) {
        return perImage(runs.details().stream().mapToDouble(f).sum());
    }

    @Override
    void json(Runs<FlowArDetails> runs, FlowArSettings settings, Map<String, Object> head, Map<String, Object> tail) {
        head.put("steps", settings.steps());
        head.put("cfg", settings.cfg());
        head.put("flow_evaluations_per_scale", runs.details().getLast().evaluations());
        tail.put("ar_seconds_per_image", perImage(runs, FlowArDetails::arSeconds));
        tail.put("flow_seconds_per_image", perImage(runs, FlowArDetails::flowSeconds));
        tail.put("decode_seconds_per_image", perImage(runs, FlowArDetails::decodeSeconds));
    }

    @Override
    void text(
            Runs<FlowArDetails> runs,
            FlowArSettings settings,
            double perImage,
            long weightBytes,
            long peakRss,
            PrintStream out) {
        out.printf(
                "%n%s, batch %d, %d runs, %d threads, %d steps (%d evaluations per scale), cfg %.1f%n",
                model(),
                common.batch,
                runs.count(),
                Parallel.threads(),
                settings.steps(),
                runs.details().getLast().evaluations(),
                settings.cfg());
        out.printf(
                "seconds per image: %.2f (AR %.2f, flow head %.2f, decode %.2f)%n",
                perImage,
                perImage(runs, FlowArDetails::arSeconds),
                perImage(runs, FlowArDetails::flowSeconds),
                perImage(runs, FlowArDetails::decodeSeconds));
        out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peakRss / 1e9, weightBytes / 1e9);
    }
}
