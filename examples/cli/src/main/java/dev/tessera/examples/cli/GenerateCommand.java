package dev.tessera.examples.cli;

import java.io.PrintStream;
import picocli.CommandLine.Command;

/** {@code tessera generate FAMILY}: one subcommand per model family. */
@Command(
        name = "generate",
        header = "class-conditional images -> PNG, with one of the model families",
        subcommands = {
            GenerateVarCommand.class,
            GenerateLlamaGenCommand.class,
            GenerateNarCommand.class,
            GenerateFlowArCommand.class,
            GenerateMarCommand.class
        })
public final class GenerateCommand extends GroupCommand {
    public GenerateCommand(PrintStream out) {
        super(out);
    }

    @Override
    public String noun() {
        return "model family";
    }
}
