package dev.tessera.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.io.SafetensorsWriter;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packed-weight cache changes where panels live, never what they hold: a layer packed into the cache, a layer
 * mapped from it by a later load, and a layer packed in memory give the same bytes; a changed checkpoint, a
 * damaged cache file or an unusable folder fall back to packing, and small tensors are left out.
 */
class PackedWeightCacheTest {
    @TempDir
    Path dir;

    private static final int OUT = 70, IN = 50; // not a multiple of the panel width: the padding is written too

    private Path checkpoint(String name, long seed) {
        Random r = new Random(seed);
        float[] a = new float[OUT * IN], b = new float[OUT * IN];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
        }
        Path file = dir.resolve(name);
        SafetensorsWriter.write(
                file,
                List.of(Tensor.ofFloats("a.weight", a, OUT, IN), Tensor.ofFloats("b.weight", b, OUT, IN)),
                Map.of());
        return file;
    }

    /** The panels of layer {@code key} of {@code file} loaded with {@code cache}, copied out. */
    private static byte[] panels(Path file, PackedWeightCache cache, String key, WeightPanels.Format f) {
        try (Checkpoint c = Checkpoint.withPackedWeights(Checkpoints.open(file), cache)) {
            return Linear.load(c, key, false, f).panels().toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static byte[] inMemory(Path file, String key, WeightPanels.Format f) {
        try (Checkpoint c = Checkpoints.open(file)) {
            return WeightPanels.pack(Linear.load(c, key, false, f).weight(), OUT, IN, f)
                    .toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private long cachedFiles() throws IOException {
        if (!Files.exists(dir.resolve("cache"))) return 0;
        try (Stream<Path> s = Files.walk(dir.resolve("cache"))) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void aLaterLoadMapsExactlyWhatAnEarlierOneStored() throws IOException {
        Path file = checkpoint("m.safetensors", 1);
        for (WeightPanels.Format f : WeightPanels.Format.values()) {
            byte[] expected = inMemory(file, "a", f);
            PackedWeightCache first = PackedWeightCache.at(dir.resolve("cache"), 0);
            assertArrayEquals(expected, panels(file, first, "a", f), "stored " + f);
            assertEquals(expected.length, first.bytesWritten());
            assertEquals(0, first.bytesMapped());
            PackedWeightCache second = PackedWeightCache.at(dir.resolve("cache"), 0);
            assertArrayEquals(expected, panels(file, second, "a", f), "mapped " + f);
            assertEquals(0, second.bytesWritten(), "a second load must not pack again");
            assertEquals(expected.length, second.bytesMapped());
        }
        assertEquals(
                WeightPanels.Format.values().length,
                cachedFiles(),
                "one file per tensor and format, no temporary files left");
        // another tensor of the same file is not the first one's panels
        PackedWeightCache third = PackedWeightCache.at(dir.resolve("cache"), 0);
        assertArrayEquals(
                inMemory(file, "b", WeightPanels.Format.F32), panels(file, third, "b", WeightPanels.Format.F32));
        assertEquals(0, third.bytesMapped());
    }

    @Test
    void aStackedLayerIsStoredUnderBothNames() {
        Path file = checkpoint("s.safetensors", 2);
        byte[] expected, stored, mapped;
        try (Checkpoint c = Checkpoints.open(file)) {
            Linear s = Linear.stack(
                    Linear.load(c, "a", false, WeightPanels.Format.F32),
                    Linear.load(c, "b", false, WeightPanels.Format.F32));
            expected = s.panels().toArray(ValueLayout.JAVA_BYTE);
        }
        for (int run = 0; run < 2; run++) {
            PackedWeightCache cache = PackedWeightCache.at(dir.resolve("cache"), 0);
            try (Checkpoint c = Checkpoint.withPackedWeights(Checkpoints.open(file), cache)) {
                Linear s = Linear.stack(
                        Linear.load(c, "a", false, WeightPanels.Format.F32),
                        Linear.load(c, "b", false, WeightPanels.Format.F32));
                assertArrayEquals(expected, s.panels().toArray(ValueLayout.JAVA_BYTE), "run " + run);
                assertEquals(run == 0 ? expected.length : 0, cache.bytesWritten(), "run " + run);
            }
        }
    }

    @Test
    void aChangedCheckpointIsPackedAgain() throws IOException {
        Path file = checkpoint("m.safetensors", 3);
        panels(file, PackedWeightCache.at(dir.resolve("cache"), 0), "a", WeightPanels.Format.F32);
        checkpoint("m.safetensors", 4); // same name and size, other values, a later time
        Files.setLastModifiedTime(
                file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + 5000));
        PackedWeightCache cache = PackedWeightCache.at(dir.resolve("cache"), 0);
        assertArrayEquals(
                inMemory(file, "a", WeightPanels.Format.F32), panels(file, cache, "a", WeightPanels.Format.F32));
        assertEquals(0, cache.bytesMapped(), "the panels of the old file must not be reused");
    }

    @Test
    void aDamagedCacheFileIsReplaced() throws IOException {
        Path file = checkpoint("m.safetensors", 5);
        byte[] expected = inMemory(file, "a", WeightPanels.Format.F32);
        panels(file, PackedWeightCache.at(dir.resolve("cache"), 0), "a", WeightPanels.Format.F32);
        Path stored;
        try (Stream<Path> s = Files.walk(dir.resolve("cache"))) {
            stored = s.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(stored);
        Files.write(stored, Arrays.copyOf(bytes, bytes.length - 4)); // truncated
        PackedWeightCache cache = PackedWeightCache.at(dir.resolve("cache"), 0);
        assertArrayEquals(expected, panels(file, cache, "a", WeightPanels.Format.F32));
        assertEquals(0, cache.bytesMapped());
        bytes[10] ^= 1; // a header that is not this layout's
        Files.write(stored, bytes);
        cache = PackedWeightCache.at(dir.resolve("cache"), 0);
        assertArrayEquals(expected, panels(file, cache, "a", WeightPanels.Format.F32));
        assertEquals(0, cache.bytesMapped());
        assertEquals(expected.length, cache.bytesWritten(), "the damaged file is replaced");
    }

    /**
     * The panels' segment: the same address when a kept mapping was reused. Tests hold the segments they compare, so
     * that a dropped mapping cannot be unmapped and its address handed out again.
     */
    private static MemorySegment mapped(Path file, PackedWeightCache cache, String key) {
        try (Checkpoint c = Checkpoint.withPackedWeights(Checkpoints.open(file), cache)) {
            return Linear.load(c, key, false, WeightPanels.Format.F32).panels();
        }
    }

    @Test
    void keptMappingsAreReusedOnlyWhileTheirFileIsTheSame() throws IOException {
        Path file = checkpoint("m.safetensors", 7);
        byte[] expected = inMemory(file, "a", WeightPanels.Format.F32);
        panels(file, PackedWeightCache.at(dir.resolve("cache"), 0), "a", WeightPanels.Format.F32); // stores it
        PackedWeightCache.Mappings kept = new PackedWeightCache.Mappings(1L << 30);
        PackedWeightCache first = PackedWeightCache.at(dir.resolve("cache"), 0, kept);
        MemorySegment mapped = mapped(file, first, "a");
        assertEquals(expected.length, kept.bytesKept());
        PackedWeightCache second = PackedWeightCache.at(dir.resolve("cache"), 0, kept);
        MemorySegment reused = mapped(file, second, "a");
        assertEquals(mapped.address(), reused.address(), "a second load must reuse the kept mapping");
        assertArrayEquals(expected, panels(file, second, "a", WeightPanels.Format.F32));
        assertEquals(2L * expected.length, second.bytesMapped(), "each load counts what it got mapped");
        // without kept mappings every load maps anew
        MemorySegment fresh = mapped(file, PackedWeightCache.at(dir.resolve("cache"), 0), "a");
        assertTrue(fresh.address() != mapped.address(), "a load without kept mappings maps anew");
        // the cache file replaced (same bytes, a new file): the kept mapping is not used any more
        Path stored;
        try (Stream<Path> s = Files.walk(dir.resolve("cache"))) {
            stored = s.filter(Files::isRegularFile).findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(stored);
        Files.delete(stored);
        Files.write(stored, bytes);
        MemorySegment again = mapped(file, PackedWeightCache.at(dir.resolve("cache"), 0, kept), "a");
        assertTrue(again.address() != mapped.address(), "a replaced file must be mapped again");
        assertEquals(expected.length, kept.bytesKept(), "the old mapping is dropped, the new one kept");
        // over the limit: the least recently used mapping goes
        PackedWeightCache.Mappings one = new PackedWeightCache.Mappings(expected.length);
        PackedWeightCache small = PackedWeightCache.at(dir.resolve("cache"), 0, one);
        panels(file, small, "b", WeightPanels.Format.F32); // stores b
        MemorySegment b = mapped(file, PackedWeightCache.at(dir.resolve("cache"), 0, one), "b");
        MemorySegment a = mapped(file, PackedWeightCache.at(dir.resolve("cache"), 0, one), "a");
        assertEquals(expected.length, one.bytesKept());
        MemorySegment bAgain = mapped(file, PackedWeightCache.at(dir.resolve("cache"), 0, one), "b");
        assertTrue(bAgain.address() != b.address() && a.byteSize() == b.byteSize(), "b was evicted");
    }

    @Test
    void anUnusableFolderOrASmallTensorPacksInMemory() throws IOException {
        Path file = checkpoint("m.safetensors", 6);
        byte[] expected = inMemory(file, "a", WeightPanels.Format.F32);
        Path notADir = Files.writeString(dir.resolve("cache"), "a file where the folder should be");
        PackedWeightCache cache = PackedWeightCache.at(notADir, 0);
        assertArrayEquals(expected, panels(file, cache, "a", WeightPanels.Format.F32));
        assertEquals(0, cache.bytesWritten() + cache.bytesMapped());
        PackedWeightCache small = PackedWeightCache.at(dir.resolve("other"), expected.length + 1);
        assertArrayEquals(expected, panels(file, small, "a", WeightPanels.Format.F32));
        assertEquals(0, small.bytesWritten());
        assertFalse(Files.exists(dir.resolve("other")), "nothing written for a tensor under the size limit");
        assertTrue(expected.length < PackedWeightCache.MIN_BYTES);
    }

    private static void assertArrayEquals(byte[] expected, byte[] actual) {
        assertArrayEquals(expected, actual, "panels");
    }

    private static void assertArrayEquals(byte[] expected, byte[] actual, String what) {
        Assertions.assertArrayEquals(expected, actual, what + ": panels differ");
    }
}
