package dev.tessera.examples.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every {@code tessera} command shares: {@code -h/--help}, the stream it reports on, and the checks that read the
 * parsed command line. Options are not marked required in picocli: each command checks its own in the order that
 * gives the most useful message first (e.g. {@code --vq is not an option of the var family} before a missing
 * {@code --samples}).
 */
public abstract class CommandBase implements Callable<Integer> {
    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help and exit.")
    boolean help;

    @Spec
    protected CommandSpec spec;

    protected final PrintStream out;

    protected CommandBase(PrintStream out) {
        this.out = out;
    }

    /** "see 'tessera generate var --help'". */
    protected String hint() {
        return "see '" + spec.qualifiedName() + " --help'";
    }

    /** The value of an option that must be given. */
    protected <T> T require(T value, String option) {
        if (value == null) throw new UsageException("missing " + option + " (" + hint() + ")");
        return value;
    }

    /** Whether the option was on the command line (its field may hold a shown default otherwise). */
    protected boolean given(String option) {
        return given(spec, option);
    }

    static boolean given(CommandSpec spec, String option) {
        return spec.commandLine().getParseResult() != null
                && spec.commandLine().getParseResult().hasMatchedOption(option);
    }
}
