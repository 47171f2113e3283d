package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged files of both formats, truncated at every length or with random bytes changed, must give a
 * {@link CheckpointException} naming the file (or, when the damage happens to be harmless, load) and never
 * another exception, an out-of-bounds access or a hang.
 */
class CorruptFilesTest {
    @TempDir
    Path dir;

    private byte[] smallPth() throws IOException {
        PickleWriter p = new PickleWriter()
                .proto(2)
                .global("collections", "OrderedDict")
                .emptyTuple()
                .reduce()
                .binput(0)
                .mark();
        p.string("a").tensor("FloatStorage", "0", 12, 0, new long[] {3, 4}, new long[] {4, 1});
        p.string("t").tensor("FloatStorage", "0", 12, 1, new long[] {2, 3}, new long[] {1, 4});
        p.string("n").tensor("LongStorage", "1", 2, 0, new long[] {2}, new long[] {1});
        p.setitems().stop();
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("0", TestFiles.ramp(12));
        storages.put("1", TestFiles.longs(3, 4));
        Path file = TestFiles.writePth(dir.resolve("small.pth"), p.toBytes(), storages);
        return Files.readAllBytes(file);
    }

    private byte[] smallSafetensors() throws IOException {
        Path file = dir.resolve("small.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(Tensor.ofFloats("a", new float[] {1, 2, 3, 4}, 2, 2), Tensor.ofLongs("b", new long[] {5}, 1)),
                Map.of("k", "v"));
        return Files.readAllBytes(file);
    }

    /** Opens {@code bytes} as a file and reads every tensor; only a CheckpointException naming it is acceptable. */
    private void openDamaged(byte[] bytes, String name, String what) throws IOException {
        openDamaged(bytes, name, what, null);
    }

    /**
     * As above; when {@code original} is given (a truncated file), a load that succeeds must give exactly the
     * original tensors: a reader that quietly drops a tensor or reads past the end into zeros fails.
     */
    private void openDamaged(byte[] bytes, String name, String what, Map<String, String> original) throws IOException {
        Path file = Files.write(dir.resolve(name), bytes);
        try (Checkpoint c = Checkpoints.open(file)) {
            Map<String, String> loaded = contents(c);
            if (original != null) assertEquals(original, loaded, what + ": loaded, but not the original tensors");
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith(file + ": "), what + ": " + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), what + ": one-line message: " + e.getMessage());
        } catch (AssertionError e) {
            throw e;
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    /** Every tensor of a checkpoint as "dtype shape values", read in full. */
    private static Map<String, String> contents(Checkpoint c) {
        Map<String, String> all = new TreeMap<>();
        for (String key : c.keys()) {
            Tensor t = c.tensor(key);
            StringBuilder b = new StringBuilder(t.dtype() + " " + Arrays.toString(t.shape()));
            for (long i = 0; i < t.numel(); i++) b.append(' ').append(t.getDouble(i));
            all.put(key, b.toString());
        }
        return all;
    }

    private Map<String, String> contentsOf(byte[] bytes, String name) throws IOException {
        try (Checkpoint c = Checkpoints.open(Files.write(dir.resolve(name), bytes))) {
            return contents(c);
        }
    }

    @Test
    void pthTruncatedAtEveryLength() throws IOException {
        byte[] good = smallPth();
        Map<String, String> original = contentsOf(good, "whole.pth");
        assertEquals(3, original.size());
        for (int n = 0; n < good.length; n++) {
            openDamaged(Arrays.copyOf(good, n), "cut.pth", "first " + n + " of " + good.length + " bytes", original);
        }
    }

    @Test
    void pthWithRandomByteChanges() throws IOException {
        byte[] good = smallPth();
        Random random = new Random(42);
        for (int round = 0; round < 800; round++) {
            byte[] bad = good.clone();
            int changes = 1 + random.nextInt(4);
            StringBuilder what = new StringBuilder("changed");
            for (int i = 0; i < changes; i++) {
                int at = random.nextInt(bad.length);
                bad[at] = (byte) random.nextInt(256);
                what.append(' ').append(at);
            }
            openDamaged(bad, "flip.pth", what.toString());
        }
    }

    @Test
    void safetensorsTruncatedAndChanged() throws IOException {
        byte[] good = smallSafetensors();
        Map<String, String> original = contentsOf(good, "whole.safetensors");
        assertEquals(2, original.size());
        for (int n = 0; n < good.length; n++) {
            openDamaged(Arrays.copyOf(good, n), "cut.safetensors", "first " + n + " bytes", original);
        }
        Random random = new Random(7);
        for (int round = 0; round < 800; round++) {
            byte[] bad = good.clone();
            int at = random.nextInt(bad.length);
            bad[at] = (byte) random.nextInt(256);
            openDamaged(bad, "flip.safetensors", "changed " + at);
        }
    }
}
