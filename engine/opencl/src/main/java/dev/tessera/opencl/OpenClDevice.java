package dev.tessera.opencl;

/**
 * One OpenCL device as the platform reports it: indices as {@code opencl:P:D} names it, handles, and the limits the
 * kernels are sized by.
 */
public record OpenClDevice(
        int platformIndex,
        int deviceIndex,
        long platform,
        long id,
        String platformName,
        String name,
        boolean gpu,
        int computeUnits,
        long globalMemBytes,
        long localMemBytes,
        long maxWorkGroupSize,
        String version) {

    /** The spec that selects this device. */
    public String spec() {
        return "opencl:" + platformIndex + ":" + deviceIndex;
    }

    /** One line for {@code tessera devices}. */
    public String describe() {
        return platformName + " / " + name + " (" + (gpu ? "GPU" : "CPU or other") + ", " + computeUnits
                + " compute units, " + (globalMemBytes >> 20) + " MiB, " + version + ")";
    }
}
