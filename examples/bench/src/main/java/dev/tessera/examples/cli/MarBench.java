package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticFlowAr;
import dev.tessera.examples.bench.SyntheticMar;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera bench mar}: seconds per image with random weights of a released MAR size, alone or with CSpD. */
@Command(
        name = "mar",
        sortOptions = false,
        header = "MAR-B/L/H with MAR's KL-16 VAE, the official settings (or CSpD with a draft size)",
        description = {
            "Random weights of a MAR size (MarSettings.officialFor, seed 1; --num-iter to shorten); with --draft, CSpD",
            "with a random draft of that size (released rule, --gamma). Warm-up until steady, then N timed runs.",
            ""
        })
final class MarBench extends FamilyBench<MarSettings, MarDetails> {
    @Option(names = "--size", paramLabel = "SIZE", description = "B (default), L or H")
    String size = "B";

    @Option(names = "--num-iter", paramLabel = "N", description = "MAR steps (default: the official 256)")
    Integer numIter;

    @Option(
            names = {"--draft", "--draft-size"},
            paramLabel = "SIZE",
            description = "CSpD with a random draft of this size (B, L or H), e.g. --size L --draft B")
    String draftSize;

    @Option(names = "--gamma", paramLabel = "G", description = "CSpD: verify every G steps (default 8)")
    Integer gamma;

    private SyntheticMar.Size shape, draftShape;
    private Path model, draft, vae;

    MarBench(PrintStream out) {
        super(out, 2);
    }

    @Override
    void check() {
        try {
            shape = SyntheticMar.Size.of(size);
            draftShape = draftSize == null ? null : SyntheticMar.Size.of(draftSize);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (numIter != null && numIter < 1) throw new UsageException("--num-iter must be at least 1");
        if (gamma != null && (gamma < 1 || draftShape == null))
            throw new UsageException("--gamma must be at least 1 and needs --draft");
    }

    @Override
    long writeWeights(Path dir) {
        RandomWeights mw = SyntheticMar.model(shape, 1), vw = SyntheticFlowAr.kl16(2);
        model = mw.writeTo(dir.resolve("mar-" + shape.name() + ".safetensors"));
        vae = vw.writeTo(dir.resolve("kl16.safetensors"));
        long bytes = mw.bytes() + vw.bytes();
        if (draftShape != null) {
            RandomWeights dw = SyntheticMar.model(draftShape, 3);
            draft = dw.writeTo(dir.resolve("mar-draft-" + draftShape.name() + ".safetensors"));
            bytes += dw.bytes();
        }
        return bytes;
    }

    @Override
    Pipeline<MarSettings, MarDetails> load(Ops ops, WeightPanels.Format weights) {
        MarPipeline.Builder b =
                MarPipeline.builder().model(model).vae(vae).ops(ops).weights(weights);
        if (draft != null) b.draft(draft, 0, 0);
        return b.load();
    }

    @Override
    String loaded(long weightBytes) {
        return String.format("MAR-%s (%.2f GB with the KL-16 VAE%s),", shape.name(), weightBytes / 1e9, draftNote());
    }

    private String draftNote() {
        return draftShape == null ? "" : " and a MAR-" + draftShape.name() + " draft";
    }

    @Override
    String model() {
        return "MAR-" + shape.name() + " (random weights)" + draftNote() + ", KL-16";
    }

    @Override
    MarSettings settings(Pipeline<MarSettings, MarDetails> pipe) {
        MarSettings s = pipe.defaults();
        if (numIter != null) s = s.withNumIter(numIter);
        if (draftShape != null) {
            CspdSettings d = CspdSettings.RELEASED_DEFAULTS;
            s = s.withCspd(
                    new CspdSettings(gamma != null ? gamma : d.gamma(), d.prefill(), d.innerTemperature(), d.rule()));
        }
        return s;
    }

    @Override
    long seed() {
        return 1;
    }

    @Override
    String breakdown(MarDetails d) {
        return String.format(
                "MAR %.2f, diffusion %.2f, decode %.2f; forwards %d target + %d draft",
                d.marSeconds(), d.diffusionSeconds(), d.decodeSeconds(), d.targetForwards(), d.draftForwards());
    }

    private double perImage(Runs<MarDetails> runs, ToDoubleFunction<MarDetails> f) {
        return perImage(runs.details().stream().mapToDouble(f).sum());
    }

    @Override
    void json(Runs<MarDetails> runs, MarSettings settings, Map<String, Object> head, Map<String, Object> tail) {
        MarDetails last = runs.details().getLast();
        head.put("num_iter", settings.numIter());
        head.put("diffusion_steps", settings.diffusionSteps());
        head.put("cfg", settings.cfg());
        if (settings.cspd() != null) {
            head.put("draft", "MAR-" + draftShape.name());
            head.put("gamma", settings.cspd().gamma());
            tail.put("acceptance_rate", last.drafted() == 0 ? null : last.acceptanceRate());
            tail.put("drafted", last.drafted());
            tail.put("rejection_proposals", last.rejectionProposals());
        }
        tail.put("target_forwards", last.targetForwards());
        tail.put("draft_forwards", last.draftForwards());
        tail.put("mar_seconds_per_image", perImage(runs, MarDetails::marSeconds));
        tail.put("diffusion_seconds_per_image", perImage(runs, MarDetails::diffusionSeconds));
        tail.put("decode_seconds_per_image", perImage(runs, MarDetails::decodeSeconds));
    }

    @Override
    void text(
            Runs<MarDetails> runs,
            MarSettings settings,
            double perImage,
            long weightBytes,
            long peakRss,
            PrintStream out) {
        MarDetails last = runs.details().getLast();
        out.printf(
                "%n%s, batch %d, %d runs, %d threads, %d steps, %d diffusion steps, cfg %.1f%s%n",
                model(),
                common.batch,
                runs.count(),
                Parallel.threads(),
                settings.numIter(),
                settings.diffusionSteps(),
                settings.cfg(),
                settings.cspd() == null
                        ? ""
                        : String.format(
                                ", CSpD gamma %d: acceptance %.3f of %d drafted, %d rejection proposals",
                                settings.cspd().gamma(),
                                last.acceptanceRate(),
                                last.drafted(),
                                last.rejectionProposals()));
        out.printf(
                "seconds per image: %.2f (MAR %.2f, diffusion %.2f, decode %.2f); forwards %d target + %d draft%n",
                perImage,
                perImage(runs, MarDetails::marSeconds),
                perImage(runs, MarDetails::diffusionSeconds),
                perImage(runs, MarDetails::decodeSeconds),
                last.targetForwards(),
                last.draftForwards());
        out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peakRss / 1e9, weightBytes / 1e9);
    }
}
