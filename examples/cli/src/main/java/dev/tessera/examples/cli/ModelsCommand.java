package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/** {@code tessera models}: the models bundled in {@code examples/models/}, read from their JSON cards. */
@Command(
        name = "models",
        header = "the bundled models (Fashion-MNIST zoo: the default of generate var)",
        description = {
            "Lists the bundled models (examples/models/<zoo>/<name>.json cards beside <name>.safetensors): name, "
                    + "family,",
            "parameters, file size, classes and the card. These run without downloading anything; 'tessera "
                    + "generate var'",
            "without --model/--vae uses the bundled VAR (var-d3) and its VQ-VAE.",
            ""
        })
public final class ModelsCommand extends CommandBase {
    public ModelsCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        BundledVar b = BundledVar.locate();
        Path models = b.dir().getParent();
        List<Path> cards;
        try (Stream<Path> s = Files.walk(models, 2)) {
            cards = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UsageException(models + ": cannot list (" + e.getMessage() + ")");
        }
        out.printf("%-22s %-10s %11s %9s  %s%n", "model", "family", "parameters", "size", "classes / card");
        for (Path card : cards) {
            if (!(Json.read(card) instanceof Map<?, ?> c) || !(c.get("file") instanceof String file)) continue;
            Path weights = card.resolveSibling(file);
            String name = models.relativize(weights).toString().replace(".safetensors", "");
            long bytes;
            try {
                bytes = Files.size(weights);
            } catch (IOException e) {
                out.printf("%-22s missing %s%n", name, weights);
                continue;
            }
            Object classes = c.get("classes");
            String what =
                    classes instanceof List<?> l ? l.size() + " classes" : c.get("config") != null ? "tokenizer" : "";
            out.printf(
                    Locale.ROOT,
                    "%-22s %-10s %11s %8.1fM  %s, %s%n",
                    name,
                    c.get("family"),
                    c.get("parameters"),
                    bytes / 1e6,
                    what,
                    models.getParent().getParent().relativize(card));
        }
        out.println();
        out.println("classes: " + String.join(", ", BundledVar.CLASSES));
        out.println("default of 'generate var': " + b.model().getFileName() + " with "
                + b.vae().getFileName()
                + String.format(Locale.ROOT, " (cfg %.0f, no top-k/top-p)", BundledVar.SAMPLING.cfg()));
        return 0;
    }
}
