package dev.tessera.examples.cli;

import dev.tessera.examples.fid.EvalPlan;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * {@code tessera eval --spark MASTER}: the evaluation's batches run as tasks of a distributed engine, which lives in a
 * module off the command's class path (examples/spark) and is found with {@link ServiceLoader} when the launcher puts
 * it there. It fills the evaluation folder exactly as {@code eval} alone would (the same samples, the same feature
 * rows in the same order); {@code eval} then computes the metrics and the report as usual.
 */
public interface DistributedEval {
    /** Checks the master's URL before anything is written (a usage error when it cannot be one). */
    void check(String master);

    /**
     * Generates and measures the batches of {@code plan} that {@code dir} lacks (at most {@code maxNew} new samples
     * when positive) on {@code master}, and appends their features to {@code dir/features} in batch order.
     *
     * @return how many samples {@code dir/features} holds afterwards
     */
    int generate(String master, EvalPlan plan, Path dir, int maxNew, PrintStream out);

    /** The engine on the class path; else a usage error that says how to get it. */
    static DistributedEval find() {
        return ServiceLoader.load(DistributedEval.class)
                .findFirst()
                .orElseThrow(() -> new UsageException(
                        "--spark needs examples/spark on the class path (./tessera eval --spark adds it)"));
    }
}
