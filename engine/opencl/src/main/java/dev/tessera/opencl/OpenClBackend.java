package dev.tessera.opencl;

import static org.lwjgl.opencl.CL10.*;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Backend;
import dev.tessera.engine.ops.Ops;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/**
 * The OpenCL backend ({@code opencl}, {@code opencl:P:D}), registered for {@link java.util.ServiceLoader}. Devices are
 * those of every installed ICD (platform); {@code opencl} alone opens the first GPU, or the first device when there
 * is no GPU.
 */
public final class OpenClBackend implements Backend {

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public List<Device> devices() {
        try {
            return platforms().stream()
                    .map(d -> new Device(d.spec(), d.describe()))
                    .toList();
        } catch (TesseraException e) {
            return List.of();
        }
    }

    @Override
    public Ops open(String selector) {
        List<OpenClDevice> all = platforms();
        if (all.isEmpty()) {
            throw new TesseraException(
                    "no OpenCL device found: install a driver's ICD (a GPU vendor's, or Debian's pocl-opencl-icd)");
        }
        OpenClDevice pick;
        if (selector.isEmpty()) {
            pick = all.stream().filter(OpenClDevice::gpu).findFirst().orElse(all.get(0));
        } else {
            String[] parts = selector.split(":", -1);
            int p, d;
            try {
                if (parts.length != 2) throw new NumberFormatException();
                p = Integer.parseInt(parts[0]);
                d = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new TesseraException("device 'opencl:" + selector
                        + "' is not opencl:PLATFORM:DEVICE (two numbers; see tessera devices)");
            }
            pick = all.stream()
                    .filter(x -> x.platformIndex() == p && x.deviceIndex() == d)
                    .findFirst()
                    .orElseThrow(() -> new TesseraException("no OpenCL device " + p + ":" + d + "; there are: "
                            + String.join(
                                    ", ", all.stream().map(OpenClDevice::spec).toList())));
        }
        return new OpenClOps(pick);
    }

    /** Every device of every platform; a readable exception when the OpenCL library cannot be loaded. */
    static synchronized List<OpenClDevice> platforms() {
        loadLibrary();
        List<OpenClDevice> out = new ArrayList<>();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            int err = clGetPlatformIDs(null, n);
            if (err == -1001 || n.get(0) == 0) return out; // CL_PLATFORM_NOT_FOUND_KHR: no ICD installed
            OpenClOps.check(err, "clGetPlatformIDs");
            PointerBuffer ids = stack.mallocPointer(n.get(0));
            OpenClOps.check(clGetPlatformIDs(ids, (IntBuffer) null), "clGetPlatformIDs");
            for (int p = 0; p < ids.capacity(); p++) {
                long platform = ids.get(p);
                String pname = platformString(platform, CL_PLATFORM_NAME);
                IntBuffer nd = stack.mallocInt(1);
                if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, nd) != CL_SUCCESS || nd.get(0) == 0) continue;
                PointerBuffer devs = stack.mallocPointer(nd.get(0));
                OpenClOps.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, devs, (IntBuffer) null), "clGetDeviceIDs");
                for (int d = 0; d < devs.capacity(); d++) {
                    long dev = devs.get(d);
                    long type = deviceLong(dev, CL_DEVICE_TYPE);
                    out.add(new OpenClDevice(
                            p,
                            d,
                            platform,
                            dev,
                            pname,
                            deviceString(dev, CL_DEVICE_NAME),
                            (type & CL_DEVICE_TYPE_GPU) != 0,
                            deviceInt(dev, CL_DEVICE_MAX_COMPUTE_UNITS),
                            deviceLong(dev, CL_DEVICE_GLOBAL_MEM_SIZE),
                            deviceLong(dev, CL_DEVICE_LOCAL_MEM_SIZE),
                            devicePointer(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                            deviceString(dev, CL_DEVICE_VERSION)));
                }
            }
        }
        return out;
    }

    private static boolean loaded;

    private static void loadLibrary() {
        if (loaded) return;
        // Debian's runtime package ships only libOpenCL.so.1 (the unversioned name comes with -dev packages)
        if (System.getProperty("org.lwjgl.opencl.libname") == null
                && System.getProperty("os.name", "").startsWith("Linux")) {
            Configuration.OPENCL_LIBRARY_NAME.set("libOpenCL.so.1");
        }
        try {
            CL.getFunctionProvider();
            loaded = true;
        } catch (Throwable e) { // UnsatisfiedLinkError, or LWJGL's own IllegalStateException
            throw new TesseraException("cannot load the OpenCL library (install an ICD loader such as Debian's "
                    + "ocl-icd-libopencl1, or name it with -Dorg.lwjgl.opencl.libname=...): " + e.getMessage());
        }
    }

    private static String platformString(long platform, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            OpenClOps.check(clGetPlatformInfo(platform, param, (ByteBuffer) null, size), "clGetPlatformInfo");
            ByteBuffer buf = stack.malloc((int) size.get(0));
            OpenClOps.check(clGetPlatformInfo(platform, param, buf, null), "clGetPlatformInfo");
            return MemoryUtil.memUTF8(buf, Math.max(0, (int) size.get(0) - 1)).trim();
        }
    }

    private static String deviceString(long dev, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            OpenClOps.check(clGetDeviceInfo(dev, param, (ByteBuffer) null, size), "clGetDeviceInfo");
            ByteBuffer buf = stack.malloc((int) size.get(0));
            OpenClOps.check(clGetDeviceInfo(dev, param, buf, null), "clGetDeviceInfo");
            return MemoryUtil.memUTF8(buf, Math.max(0, (int) size.get(0) - 1)).trim();
        }
    }

    private static int deviceInt(long dev, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer v = stack.mallocInt(1);
            OpenClOps.check(clGetDeviceInfo(dev, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }

    private static long deviceLong(long dev, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer v = stack.mallocLong(1);
            OpenClOps.check(clGetDeviceInfo(dev, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }

    private static long devicePointer(long dev, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer v = stack.mallocPointer(1);
            OpenClOps.check(clGetDeviceInfo(dev, param, v, null), "clGetDeviceInfo");
            return v.get(0);
        }
    }
}
