package dev.tessera.engine.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

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
            String msg =
                    "SKIPPED: shared golden set not found at " + dir + " (set -Dtessera.golden=/path/to/shared/golden)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return new Golden(dir);
    }

    public static Path testdata() {
        return Path.of(System.getProperty("tessera.testdata", "../testdata"))
                .toAbsolutePath()
                .normalize();
    }

    public static Path sharedRoot() {
        return Path.of(System.getProperty("tessera.golden", "../../shared/golden"))
                .toAbsolutePath()
                .normalize();
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

    /**
     * Largest |expected − actual|. A NaN or an infinity on either side fails at once, naming the first index: it
     * would otherwise compare as "not greater" and slip through a running maximum.
     */
    public static double maxAbsError(float[] expected, float[] actual) {
        return maxAbsError(expected, actual, "values");
    }

    private static double maxAbsError(float[] expected, float[] actual, String what) {
        assertTrue(
                expected.length == actual.length,
                what + ": length " + actual.length + " != expected " + expected.length);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            requireFinite(expected, actual, i, what);
            max = Math.max(max, Math.abs((double) expected[i] - actual[i]));
        }
        return max;
    }

    /**
     * Fails with the error, where it is, and the tolerance when any element is off by more than {@code tol}, and
     * at the first NaN or infinity of either array.
     */
    public static double assertClose(float[] expected, float[] actual, double tol, String what) {
        if (!(tol >= 0 && tol < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("tolerance " + tol);
        double max = maxAbsError(expected, actual, what);
        if (max > tol) {
            int at = 0;
            for (int i = 0; i < expected.length; i++) {
                if (Math.abs((double) expected[i] - actual[i]) == max) {
                    at = i;
                    break;
                }
            }
            fail(String.format(
                    "%s: max abs error %.3g at index %d (expected %s, got %s), tolerance %.1g",
                    what, max, at, expected[at], actual[at], tol));
        }
        return max;
    }

    private static void requireFinite(float[] expected, float[] actual, int i, String what) {
        if (!Float.isFinite(expected[i])) {
            fail(String.format(
                    "%s: the expected value at index %d is %s (a golden must be finite)", what, i, expected[i]));
        }
        if (!Float.isFinite(actual[i])) {
            fail(String.format("%s: %s at index %d (expected %s)", what, actual[i], i, expected[i]));
        }
    }
}
