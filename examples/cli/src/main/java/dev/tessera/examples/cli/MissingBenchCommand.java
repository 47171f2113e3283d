package dev.tessera.examples.cli;

import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** Stands for {@code tessera bench} when the bench module is not on the class path: one line saying how to get it. */
@Command(
        name = "bench",
        header = {
            "seconds per image with random weights of the released shapes",
            "(var, llamagen, nar, flowar; bench kernels runs the JMH kernels)"
        },
        description = {
            "The benchmarks live in examples/bench, which ./tessera puts on the class path for 'tessera bench'.",
            ""
        })
public final class MissingBenchCommand extends CommandBase {
    @Unmatched
    List<String> ignored;

    public MissingBenchCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        throw new UsageException(
                "bench is not on the class path (run it with ./tessera bench, which adds examples/bench)");
    }
}
