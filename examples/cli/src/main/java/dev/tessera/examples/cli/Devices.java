package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Backend;
import dev.tessera.engine.ops.Backends;
import java.io.PrintStream;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code tessera devices}: the compute devices this machine offers, each with the spec {@code --device} takes. */
@Command(
        name = "devices",
        header = "the compute devices (the specs --device takes: cpu, opencl:P:D)",
        description = {
            "Lists the compute devices this machine offers, each with the spec --device takes:",
            "  cpu            the Java Vector API backend (default)",
            "  opencl[:P:D]   an OpenCL device (platform P, device D); opencl alone is the first GPU, else the",
            "                 first device. Needs an OpenCL driver (a GPU vendor's ICD, or Debian's",
            "                 pocl-opencl-icd for the CPU).",
            ""
        })
public final class Devices extends CommandBase {
    public Devices(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        for (Backend b : Backends.all()) {
            List<Backend.Device> devices = b.devices();
            if (devices.isEmpty()) {
                out.printf("%-16s (no device found: %s)%n", b.name(), reason(b));
                continue;
            }
            for (Backend.Device d : devices) out.printf("%-16s %s%n", d.spec(), d.description());
        }
        if (Backends.all().stream().noneMatch(b -> b.name().equals("opencl"))) {
            out.println("opencl           (the tessera-opencl module is not on the class path)");
        }
        return 0;
    }

    private static String reason(Backend b) {
        try {
            b.open("");
            return "none";
        } catch (TesseraException e) {
            return e.getMessage();
        }
    }
}
