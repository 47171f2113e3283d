package dev.tessera.examples.cli;

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

    /** The backend: opened here, released by {@link LoadOptions#close()}. */
    Ops open() {
        return device == null ? Ops.cpu() : Backends.open(device);
    }

    boolean given() {
        return device != null;
    }
}
