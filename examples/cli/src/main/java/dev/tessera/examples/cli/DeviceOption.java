package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;
import java.util.Locale;
import picocli.CommandLine.Option;

/** {@code --device cpu|opencl[:P:D]}: the compute backend a command's models run on (see {@code tessera devices}). */
public final class DeviceOption {
    @Option(
            names = "--device",
            paramLabel = "D",
            description = "cpu (default: the Java Vector API backend) or opencl[:PLATFORM:DEVICE] (an OpenCL device; "
                    + "opencl alone is the first GPU, else the first device); 'tessera devices' lists them")
    String device;

    /**
     * The backend: opened here, released by {@link LoadOptions#close()}. A backend that does not exist is a usage
     * error (exit 2); one that exists but cannot open the device asked for is a failure (exit 1).
     */
    Ops open() {
        if (device == null) return Ops.cpu();
        String name = device.strip();
        if (name.indexOf(':') >= 0) name = name.substring(0, name.indexOf(':'));
        try {
            Backends.find(name);
        } catch (TesseraException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        return Backends.open(device);
    }

    boolean given() {
        return device != null;
    }

    /** The line a command prints after its work when --device was given: the device and its weight bytes. */
    static String describe(Ops ops) {
        long onDevice = ops.deviceWeightBytes();
        return "device " + ops.name()
                + (onDevice > 0 ? String.format(Locale.ROOT, "; weights on it %.1f MB", onDevice / 1e6) : "");
    }

    /** Releases a backend that holds resources (a device's memory); the CPU backend holds none. */
    static void close(Ops ops) {
        if (ops instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new TesseraException("closing " + ops.name() + ": " + e.getMessage(), e);
            }
        }
    }
}
