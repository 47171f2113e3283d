package dev.tessera.examples.cli;

import dev.tessera.examples.fid.EvalPlan;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
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

    /**
     * A local file with the bytes of an input file as given on the command line: a URI's file (hdfs:, s3a:, ...)
     * copied to local disk; a plain path as it is.
     */
    default Path input(String arg) {
        return Path.of(arg);
    }

    /** The files {@link #input} copied, by copy: their URIs (the plan names them so). */
    default Map<Path, String> sources() {
        return Map.of();
    }

    /**
     * The local folder that stands for the evaluation folder {@code --out} names: the folder itself, or for a URI a
     * working copy that {@link #generate} and {@link #publish} keep in step with the store.
     */
    default Path output(String arg) {
        return Path.of(arg);
    }

    /** Where the evaluation folder is, as the user named it. */
    default String place(Path dir) {
        return dir.toString();
    }

    /** Writes the report and what else the working copy of a URI's folder gained back to the store. */
    default void publish(Path dir) {}

    /** Removes what {@link #output} made locally. */
    default void close() {}

    /** The engine on the class path; else a usage error that says how to get it. */
    static DistributedEval find() {
        return ServiceLoader.load(DistributedEval.class)
                .findFirst()
                .orElseThrow(() -> new UsageException(
                        "--spark needs examples/spark on the class path (./tessera eval --spark adds it)"));
    }
}
