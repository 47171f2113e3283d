package dev.tessera.examples.cli;

import java.io.PrintStream;
import picocli.CommandLine.Command;

/** {@code tessera edit FAMILY}: zero-shot image editing, one subcommand per family that can do it. */
@Command(
        name = "edit",
        header = "zero-shot in-painting, out-painting and class-conditional editing of a picture -> PNG",
        subcommands = {EditVarCommand.class})
public final class EditCommand extends GroupCommand {
    public EditCommand(PrintStream out) {
        super(out);
    }

    @Override
    public String noun() {
        return "model family";
    }
}
