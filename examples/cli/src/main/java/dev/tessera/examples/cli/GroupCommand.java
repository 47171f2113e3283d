package dev.tessera.examples.cli;

import java.io.PrintStream;

/**
 * A command that only holds subcommands ({@code tessera}, {@code tessera generate}, {@code tessera fid}): alone, it
 * prints its help and exits 2.
 */
public abstract class GroupCommand extends CommandBase {
    protected GroupCommand(PrintStream out) {
        super(out);
    }

    /** What the subcommands are called in messages: "command", "model family", ... */
    public abstract String noun();

    @Override
    public Integer call() {
        spec.commandLine().usage(out);
        return 2;
    }
}
