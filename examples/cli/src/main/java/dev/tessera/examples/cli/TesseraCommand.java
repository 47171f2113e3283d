package dev.tessera.examples.cli;

import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/** {@code tessera}: the top of the command tree ({@code bench} is added when its module is on the class path). */
@Command(
        name = "tessera",
        header = "Tessera: visual autoregressive image generation (VAR, LlamaGen, NAR, FlowAR, MAR) in plain Java.",
        synopsisSubcommandLabel = "COMMAND",
        description = {"", "'tessera COMMAND --help' shows the options of each command.", ""},
        subcommands = {
            GenerateCommand.class,
            EditCommand.class,
            ModelsCommand.class,
            EvalCommand.class,
            FidCommand.class,
            ConvertCommand.class,
            Devices.class,
            HelpCommand.class
        },
        footer = {
            "",
            "Examples:",
            "  tessera generate var --class sneaker --out sneaker.png      (the bundled Fashion-MNIST VAR)",
            "  tessera generate var --model var_d16.pth --vae vae_ch160v4096z32.pth --class 207 --out dog.png",
            "  tessera edit var --image sneaker.png --box 0,0,0.75,1 --class \"ankle boot\" --out boot.png"
        })
public final class TesseraCommand extends GroupCommand {
    public TesseraCommand(PrintStream out) {
        super(out);
    }

    @Override
    public String noun() {
        return "command";
    }
}
