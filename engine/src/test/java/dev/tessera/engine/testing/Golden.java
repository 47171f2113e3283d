package dev.tessera.engine.testing;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Access to golden vectors: the small sets vendored in {@code testdata/} (always present; missing is a failure)
 * and the large ones read from {@code ../shared/golden} through {@code -Dtessera.golden} (skipped loudly when
 * absent). The tolerances are those of the golden README and must not be loosened.
 */
public final class Golden implements AutoCloseable {
    /** Max abs error for logits, f_hat, decoded images, pool3 features. */
    public static final double TOL = 1e-3;

    private final Path dir;
    private final Checkpoint tensors;

    private Golden(Path dir) {
        this.dir = dir;
        this.tensors = Checkpoints.open(dir.resolve("golden.safetensors"));
    }

    /** A vendored golden set, e.g. {@code var-small}. */
    public static Golden vendored(String set) {
        Path dir = testdata().resolve(set);
        if (!Files.isRegularFile(dir.resolve("golden.safetensors"))) {
            fail("vendored golden set missing: " + dir + " (testdata/ must hold it; see testdata/README.md)");
        }
        return new Golden(dir);
    }

    /** A golden set from the shared folder; the test is skipped, with a message, when it is absent. */
    public static Golden shared(String set) {
        Path dir = sharedRoot().resolve(set);
        if (!Files.isRegularFile(dir.resolve("golden.safetensors"))) {
            String msg = "SKIPPED: shared golden set not found at " + dir + " (set -Dtessera.golden=/path/to/shared/golden)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return new Golden(dir);
    }

    public static Path testdata() {
        return Path.of(System.getProperty("tessera.testdata", "../testdata")).toAbsolutePath().normalize();
    }

    public static Path sharedRoot() {
        return Path.of(System.getProperty("tessera.golden", "../../shared/golden")).toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    public float[] floats(String name) {
        return tensors.tensor(name).toFloatArray();
    }

    public int[] ints(String name) {
        return tensors.tensor(name).toIntArray();
    }

    public long[] shape(String name) {
        return tensors.tensor(name).shape();
    }

    public boolean has(String name) {
        return tensors.contains(name);
    }

    @Override
    public void close() {
        tensors.close();
    }

    /** Largest |expected − actual|. */
    public static double maxAbsError(float[] expected, float[] actual) {
        assertTrue(expected.length == actual.length, "length " + actual.length + " != expected " + expected.length);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) expected[i] - actual[i]);
            if (Double.isNaN(e)) return Double.NaN;
            max = Math.max(max, e);
        }
        return max;
    }

    /** Fails with the error, where it is, and the tolerance when any element is off by more than {@code tol}. */
    public static double assertClose(float[] expected, float[] actual, double tol, String what) {
        assertTrue(expected.length == actual.length, what + ": length " + actual.length + " != expected " + expected.length);
        double max = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double e = Math.abs((double) expected[i] - actual[i]);
            if (!(e <= max)) {
                max = e;
                at = i;
            }
        }
        if (!(max <= tol)) {
            fail(String.format("%s: max abs error %.3g at index %d (expected %s, got %s), tolerance %.1g",
                    what, max, at, expected[at], actual[at], tol));
        }
        return max;
    }
}
