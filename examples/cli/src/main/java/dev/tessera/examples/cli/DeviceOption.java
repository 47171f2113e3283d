package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;
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
}
