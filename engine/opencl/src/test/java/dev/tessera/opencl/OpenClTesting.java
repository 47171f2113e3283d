package dev.tessera.opencl;

import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;
import org.junit.jupiter.api.Assumptions;

import java.util.ArrayList;
import java.util.List;

/**
 * The OpenCL devices of this machine, each opened once for the whole test run. Without any device the OpenCL tests
 * are skipped (a bare clone without PoCL); CI installs PoCL and fails on skipped tests (.ci/check-no-skips).
 */
final class OpenClTesting {
    private static List<Ops> devices;

    private OpenClTesting() {
    }

    static synchronized List<Ops> devices() {
        if (devices == null) {
            List<Ops> list = new ArrayList<>();
            for (OpenClDevice d : OpenClBackend.platforms()) list.add(Backends.open(d.spec()));
            devices = List.copyOf(list);
        }
        Assumptions.assumeTrue(!devices.isEmpty(), "no OpenCL device: install pocl-opencl-icd (as .ci/run does)");
        return devices;
    }

    /** The first device (PoCL's CPU device in CI). */
    static Ops first() {
        return devices().getFirst();
    }
}
