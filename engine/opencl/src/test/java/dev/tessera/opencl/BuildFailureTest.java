package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Errors a user can act on: a kernel that does not build, and work sizes the device cannot run. */
class BuildFailureTest {

    @Test
    void aKernelThatDoesNotBuildIsOneLineNamingTheBuildLog() throws IOException {
        OpenClTesting.devices(); // skips without a device
        OpenClDevice d = OpenClBackend.platforms().getFirst();
        TesseraException e = assertThrows(
                TesseraException.class,
                () -> new OpenClOps(
                        d, TileSizes.forDevice(d), "\n__kernel void broken(void) { undeclared_name = 1; }\n"));
        String m = e.getMessage();
        assertTrue(m.startsWith("the OpenCL kernels failed to build for ") && !m.contains("\n"), m);
        Path log = Path.of(m.substring(m.indexOf("build log in ") + "build log in ".length()));
        try {
            String text = Files.readString(log);
            assertTrue(text.contains("undeclared_name"), "the log names the error: " + text);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void workSizesTheDeviceCannotRunAreOneLine() {
        OpenClTesting.devices();
        OpenClDevice d = OpenClBackend.platforms().getFirst();
        long tooMany = d.maxWorkGroupSize() * 2;
        TesseraException e = assertThrows(
                TesseraException.class,
                () -> TileSizes.check(new TileSizes(64, (int) Math.min(1 << 20, tooMany), 16, 4, 1, 64, false), d));
        assertTrue(e.getMessage().contains("exceeds") && !e.getMessage().contains("\n"), e.getMessage());
        e = assertThrows(TesseraException.class, () -> new TileSizes(30, 32, 16, 4, 4, 64, true));
        assertTrue(e.getMessage().contains("multiple of wptm"), e.getMessage());
        e = assertThrows(TesseraException.class, () -> new TileSizes(32, 32, 16, 4, 4, 48, true));
        assertTrue(e.getMessage().contains("power of two"), e.getMessage());
    }
}
