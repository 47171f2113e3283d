package dev.tessera.examples.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --class} (repeatable) and {@code --out}: what a generate command makes and where it writes it. */
public final class TargetOptions {
    @Option(
            names = "--class",
            paramLabel = "N|NAME",
            description = "(required) class by index (207) or name: ImageNet (\"golden retriever\") for official "
                    + "checkpoints, Fashion-MNIST (\"sneaker\") for the bundled model; repeat for more images")
    List<String> labels = new ArrayList<>();

    @Option(
            names = "--out",
            paramLabel = "PATH",
            description = "(required) a .png file for a single image, otherwise a directory that receives 000.png, "
                    + "001.png, ... in the order of the --class options")
    Path out;

    /** The class labels as given; at least one. */
    List<String> labels(CommandBase command) {
        if (labels.isEmpty()) command.require(null, "--class");
        return labels;
    }

    /** Checks {@code --out} for {@code count} images before any work; the files, in order. */
    List<Path> files(CommandBase command, int count) {
        return Outputs.plan(command.require(out, "--out"), count);
    }
}
