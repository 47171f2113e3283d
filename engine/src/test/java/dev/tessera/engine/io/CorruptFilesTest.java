package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged files of both formats, truncated at every length or with random bytes changed, must give a
 * {@link CheckpointException} naming the file (or, when the damage happens to be harmless, load) and never
 * another exception, an out-of-bounds access or a hang.
 */
class CorruptFilesTest {
    @TempDir
    Path dir;

    private byte[] smallPth() throws IOException {
        PickleWriter p = new PickleWriter().proto(2).global("collections", "OrderedDict").emptyTuple().reduce()
                .binput(0).mark();
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
        SafetensorsWriter.write(file, java.util.List.of(Tensor.ofFloats("a", new float[] {1, 2, 3, 4}, 2, 2),
                Tensor.ofLongs("b", new long[] {5}, 1)), Map.of("k", "v"));
        return Files.readAllBytes(file);
    }

    /** Opens {@code bytes} as a file and reads every tensor; only a CheckpointException naming it is acceptable. */
    private void openDamaged(byte[] bytes, String name, String what) throws IOException {
        Path file = Files.write(dir.resolve(name), bytes);
        try (Checkpoint c = Checkpoints.open(file)) {
            for (String key : c.keys()) {
                Tensor t = c.tensor(key);
                if (t.numel() > 0) t.getDouble(t.numel() - 1);
            }
        } catch (CheckpointException e) {
            assertTrue(e.getMessage().startsWith(file + ": "), what + ": " + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), what + ": one-line message: " + e.getMessage());
        } catch (Throwable t) {
            fail(what + ": " + t, t);
        }
    }

    @Test
    void pthTruncatedAtEveryLength() throws IOException {
        byte[] good = smallPth();
        for (int n = 0; n < good.length; n++) {
            openDamaged(Arrays.copyOf(good, n), "cut.pth", "first " + n + " of " + good.length + " bytes");
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
        for (int n = 0; n < good.length; n++) {
            openDamaged(Arrays.copyOf(good, n), "cut.safetensors", "first " + n + " bytes");
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
