package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Backend;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/** {@code --device cpu|opencl[:P:D]} for the commands that take it, and {@code tessera devices}. */
public final class Devices {
    static final String NAME = "tessera devices";
    static final String HELP = """
            Usage: tessera devices

            Lists the compute devices this machine offers, each with the spec --device takes:
              cpu                 the Java Vector API backend (default)
              opencl[:P:D]        an OpenCL device (platform P, device D); opencl alone is the first GPU, else the
                                  first device. Needs an OpenCL driver (a GPU vendor's ICD, or Debian's
                                  pocl-opencl-icd for the CPU).
            """;

    private Devices() {
    }

    /** A backend opened from {@code --device}, closed (device memory released) with the command. */
    public record Opened(Ops ops) implements AutoCloseable {
        @Override
        public void close() {
            if (ops instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new TesseraException("closing " + ops.name() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** The backend named by {@code --device} (cpu without the option). */
    public static Opened open(Args a) {
        String spec = a.get("device");
        return new Opened(spec == null ? Ops.cpu() : Backends.open(spec));
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv, Set.of(), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
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
