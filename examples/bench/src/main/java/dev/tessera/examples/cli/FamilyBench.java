package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.ops.ProfilingOps;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Mixin;

/**
 * The run every model benchmark shares: random weights of a released shape written to a temporary folder, loaded
 * through the family's pipeline on profiling ops, warm-up generations until steady, timed runs, and a report (text,
 * or one JSON object). A family says how to make and load its weights, which settings to run, and what it reports
 * beyond the common figures.
 *
 * @param <S> the family's settings
 * @param <D> the family's details of a generation
 */
abstract class FamilyBench<S extends SamplingSettings, D> extends CommandBase {
    @Mixin
    BenchOptions common;

    /** What the timed runs gave: each run's details, seconds and FLOPs, and the kernel profile of the last. */
    record Runs<D>(List<D> details, double wallSeconds, long flops, Map<String, long[]> profile) {
        int count() {
            return details.size();
        }
    }

    FamilyBench(PrintStream out, int defaultRuns) {
        super(out);
        common = new BenchOptions(defaultRuns);
    }

    /** Checks the family's own options before anything is built. */
    abstract void check();

    /** Writes the random weights into {@code dir}; returns their bytes. */
    abstract long writeWeights(Path dir);

    abstract Pipeline<S, D> load(Ops ops, WeightPanels.Format weights);

    /** What was loaded, up to "loaded in": "NAR-B (0.53 GB with the tokenizer),". */
    abstract String loaded(long weightBytes);

    /** The model in the report: "NAR-B (random weights), VQ-16". */
    abstract String model();

    abstract S settings(Pipeline<S, D> pipe);

    long seed() {
        return 0;
    }

    /** A timed run's breakdown for the log: "tokens 1.20, decode 0.30". */
    abstract String breakdown(D d);

    /** Adds the family's fields to the JSON report: before the common figures ({@code head}) and after them. */
    abstract void json(Runs<D> runs, S settings, Map<String, Object> head, Map<String, Object> tail);

    /** The text report. */
    abstract void text(Runs<D> runs, S settings, double perImage, long weightBytes, long peakRss, PrintStream out);

    @Override
    public Integer call() {
        try {
            return measure();
        } finally {
            common.load.close();
        }
    }

    private int measure() {
        PrintStream log = common.json ? System.err : out;
        WeightPanels.Format weights = common.load.start(log);
        common.check();
        check();
        long t0 = System.nanoTime();
        long weightBytes = writeWeights(BenchCommand.tempDir());
        // the peak memory reported is that of loading and generating, not of making the random weights
        System.gc();
        BenchCommand.resetPeakRss();
        ProfilingOps ops = new ProfilingOps(common.load.ops());
        try (Pipeline<S, D> pipe = load(ops, weights)) {
            log.printf(
                    "random weights: %s loaded in %.1f s; %s%n",
                    loaded(weightBytes),
                    (System.nanoTime() - t0) * 1e-9,
                    common.load.ops().name());
            int[] classes = new int[common.batch];
            for (int b = 0; b < classes.length; b++) classes[b] = (207 + 97 * b) % 1000;
            S settings = settings(pipe);
            double[] warm = BenchCommand.warmUp(common.warmups(), log, () -> pipe.generate(classes, seed(), settings));
            List<D> details = new ArrayList<>();
            double wall = 0;
            long flops = 0;
            for (int r = 0; r < common.runs; r++) {
                ops.reset();
                long s = System.nanoTime();
                D d = pipe.generate(classes, seed(), settings).details();
                double seconds = (System.nanoTime() - s) * 1e-9;
                wall += seconds;
                flops += ops.flops();
                details.add(d);
                log.printf("run %d: %.2f s (%s)%n", r + 1, seconds, breakdown(d));
            }
            Runs<D> runs = new Runs<>(details, wall, flops, ops.snapshot());
            double perImage = wall / common.runs / common.batch;
            long peak = BenchCommand.peakRssBytes();
            if (common.json) {
                Map<String, Object> o = new LinkedHashMap<>(),
                        head = new LinkedHashMap<>(),
                        tail = new LinkedHashMap<>();
                json(runs, settings, head, tail);
                o.put("model", model());
                o.putAll(head);
                o.put("batch", common.batch);
                o.put("runs", common.runs);
                o.put("warmup_seconds", warm);
                o.put("threads", Parallel.threads());
                o.put("device", common.load.ops().name());
                o.put("seconds_per_image", perImage);
                o.put("weights", weights.name().toLowerCase(Locale.ROOT));
                o.putAll(tail);
                o.put("weight_bytes", weightBytes);
                if (common.load.ops().deviceWeightBytes() > 0) {
                    o.put("device_weight_bytes", common.load.ops().deviceWeightBytes());
                }
                o.put("peak_rss_bytes", peak);
                out.println(Json.write(o));
            } else {
                text(runs, settings, perImage, weightBytes, peak, out);
                long onDevice = common.load.ops().deviceWeightBytes();
                if (onDevice > 0) {
                    out.printf(
                            Locale.ROOT,
                            "weights on the device: %.1f MB (%s linear weights)%n",
                            onDevice / 1e6,
                            weights.name().toLowerCase(Locale.ROOT));
                }
            }
            if (common.profile) BenchCommand.printProfile(log, runs.profile());
        }
        return 0;
    }

    /** Per image of the timed runs. */
    double perImage(double total) {
        return total / common.runs / common.batch;
    }
}
