package dev.tessera.engine.ops;

import dev.tessera.engine.TesseraException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Opens a compute backend from a device spec: {@code cpu}, {@code reference}, {@code opencl} (its first device)
 * or {@code opencl:P:D} (platform P, device D). Backends other than the CPU are found with {@link ServiceLoader}, so
 * the engine does not depend on them.
 */
public final class Backends {
    private Backends() {}

    /** Every backend on the class path, the CPU backend first. */
    public static List<Backend> all() {
        List<Backend> list = new ArrayList<>();
        list.add(new CpuBackend()); // registered as a service too; listed first even where services were lost
        for (Backend b : ServiceLoader.load(Backend.class, Backends.class.getClassLoader())) {
            if (!b.name().equals("cpu")) list.add(b);
        }
        return list;
    }

    /** The backend called {@code name}, or a readable error naming the ones there are. */
    public static Backend find(String name) {
        List<Backend> all = all();
        for (Backend b : all) {
            if (b.name().equals(name)) return b;
        }
        List<String> names = all.stream().map(Backend::name).toList();
        String hint = name.equals("opencl")
                ? " (the OpenCL backend is the tessera-opencl module: put it and LWJGL on the class path)"
                : "";
        throw new TesseraException(
                "no compute backend '" + name + "'" + hint + "; available: " + String.join(", ", names));
    }

    /** Opens a device spec such as {@code cpu}, {@code opencl} or {@code opencl:0:1}. */
    public static Ops open(String spec) {
        if (spec == null || spec.isBlank())
            throw new TesseraException("empty device spec (expected cpu or opencl[:PLATFORM:DEVICE])");
        String s = spec.trim();
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        String selector = colon < 0 ? "" : s.substring(colon + 1);
        return find(name).open(selector);
    }
}
