package dev.tessera.engine.ops;

import java.util.List;

/**
 * A compute backend found through {@link java.util.ServiceLoader}: the CPU backend is built in, the OpenCL backend
 * comes with the {@code tessera-opencl} module when that is on the class path. See {@link Backends}.
 */
public interface Backend {

    /** The name a device spec starts with ("cpu", "opencl"). */
    String name();

    /**
     * The devices this backend can open on this machine, one per entry, each a full spec (as {@link #open} takes it)
     * and a description. Empty when the backend is present but finds nothing to run on; never throws for that.
     */
    List<Device> devices();

    /**
     * Opens the device named by what follows {@code name()} in a spec: {@code ""} for the default device, or a
     * backend-specific selector such as {@code "0:1"} (platform 0, device 1). Throws
     * {@link dev.tessera.engine.TesseraException} with a readable line when there is no such device.
     */
    Ops open(String selector);

    /** One device: the spec that opens it and a line describing it. */
    record Device(String spec, String description) {}
}
