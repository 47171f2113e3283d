package dev.tessera.examples.cli;

import dev.tessera.engine.ops.Parallel;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code --threads N}: the engine's worker threads. The engine reads {@code -Dtessera.threads} once, when its thread
 * pool class loads; the option sets that property while the command line is parsed, before any command touches the
 * engine. {@link #check()} then confirms the pool has that size: in a JVM whose engine already runs (a second command
 * in one process, as the tests do) a different count is refused instead of silently ignored.
 */
public final class ThreadsOption {
    private Integer threads;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "worker threads (default: the machine's cores, or -Dtessera.threads=N); results do not "
                    + "depend on it")
    void threads(int n) {
        if (n < 1) throw new ParameterException(mixee.commandLine(), "--threads must be at least 1, got " + n);
        threads = n;
        System.setProperty("tessera.threads", Integer.toString(n));
    }

    /** Call before the command does its work. */
    public void check() {
        if (threads != null && Parallel.threads() != threads) {
            throw new UsageException("--threads " + threads + ": the engine of this JVM already runs "
                    + Parallel.threads() + " threads (the count is fixed when it starts; use a new process)");
        }
    }
}
