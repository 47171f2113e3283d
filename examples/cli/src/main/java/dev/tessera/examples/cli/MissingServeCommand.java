package dev.tessera.examples.cli;

import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** Stands for {@code tessera serve} when the serve module is not on the class path: one line saying how to get it. */
@Command(
        name = "serve",
        header = "an HTTP JSON API and a web page for generating, models kept loaded",
        description = {
            "The server lives in examples/serve, which ./tessera puts on the class path for 'tessera serve'.",
            ""
        })
public final class MissingServeCommand extends CommandBase {
    @Unmatched
    List<String> ignored;

    public MissingServeCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        throw new UsageException(
                "serve is not on the class path (run it with ./tessera serve, which adds examples/serve)");
    }
}
