package dev.tessera.examples.cli;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.SafetensorsWriter;
import dev.tessera.engine.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code tessera convert}: re-saves a checkpoint's state dict as {@code .safetensors}, tensor for tensor. */
@Command(
        name = "convert",
        header = "re-save a .pth checkpoint as .safetensors",
        description = {
            "Writes every tensor of the checkpoint IN (a PyTorch .pth/.pt/.ckpt zip as torch.save writes it, or a",
            ".safetensors file) to OUT in the safetensors format: same keys, dtypes, shapes and bytes. A nested",
            "{'model': state_dict} is unwrapped. The .pth is read without executing anything from it. Tessera loads",
            "both forms with identical results; safetensors files open faster and can be read by other tools.",
            ""
        },
        footer = {"", "Example:", "  tessera convert var_d16.pth var_d16.safetensors"})
public final class ConvertCommand extends CommandBase {
    @Parameters(
            paramLabel = "IN OUT.safetensors",
            arity = "0..*",
            description = "the checkpoint to read and the file to write")
    List<Path> files = new ArrayList<>();

    public ConvertCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        if (files.size() != 2) throw new UsageException("expected IN and OUT (" + hint() + ")");
        Path in = files.get(0), dst = files.get(1);
        if (!dst.getFileName().toString().endsWith(".safetensors")) {
            throw new UsageException("OUT must end with .safetensors, got " + dst);
        }
        if (in.toAbsolutePath().normalize().equals(dst.toAbsolutePath().normalize())) {
            throw new UsageException("IN and OUT are the same file");
        }
        try (Checkpoint ckpt = Checkpoints.open(in)) {
            List<Tensor> tensors = new ArrayList<>();
            long bytes = 0;
            for (String key : ckpt.keys()) {
                Tensor t = ckpt.tensor(key);
                tensors.add(t);
                bytes += t.data().byteSize();
            }
            SafetensorsWriter.write(
                    dst,
                    tensors,
                    Map.of("format", "pt", "source", in.getFileName().toString()));
            out.printf("wrote %s (%d tensors, %.1f MB)%n", dst, tensors.size(), bytes / 1e6);
        }
        return 0;
    }
}
