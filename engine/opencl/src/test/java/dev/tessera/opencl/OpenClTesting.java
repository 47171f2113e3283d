package dev.tessera.opencl;

import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The OpenCL devices of this machine, each opened once for the whole test run. Without any device the OpenCL tests
 * are skipped (a bare clone without PoCL); CI installs PoCL and fails on skipped tests (.ci/check-no-skips).
 */
final class OpenClTesting {
    private static List<Ops> devices, variants;

    private OpenClTesting() {}

    static synchronized List<Ops> devices() {
        if (devices == null) {
            List<Ops> list = new ArrayList<>();
            for (OpenClDevice d : OpenClBackend.platforms()) list.add(Backends.open(d.spec()));
            devices = List.copyOf(list);
        }
        Assumptions.assumeTrue(!devices.isEmpty(), "no OpenCL device: install pocl-opencl-icd (as .ci/run does)");
        return devices;
    }

    /**
     * Each device with its default work sizes, and again with both GEMM kernels at sizes that are not its defaults
     * (small local-memory tiles; the direct kernel with 3 rows per work-item), so every kernel runs on PoCL too.
     */
    static synchronized List<Ops> variants() {
        List<Ops> d = devices();
        if (variants == null) {
            List<Ops> list = new ArrayList<>(d);
            for (OpenClDevice dev : OpenClBackend.platforms()) {
                list.add(new OpenClOps(dev, new TileSizes(16, 32, 8, 2, 4, 32, true)));
                list.add(new OpenClOps(dev, new TileSizes(16, 32, 8, 3, 4, 16, false)));
            }
            variants = List.copyOf(list);
        }
        return variants;
    }

    /** The first device (PoCL's CPU device in CI). */
    static Ops first() {
        return devices().getFirst();
    }
}
