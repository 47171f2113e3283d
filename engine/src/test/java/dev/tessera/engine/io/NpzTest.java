package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code .npy} / {@code .npz} reading (files written by numpy 1.24, stored and deflated) and round trips. */
class NpzTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"numpy-savez.npz", "numpy-savez-compressed.npz"})
    void readsWhatNumpyWrites(String file) {
        try (NpzFile npz = NpzFile.open(Golden.testdata().resolve("fid/" + file))) {
            assertEquals(Set.of("f8", "f4", "u1", "i8", "mode", "empty", "fortran", "bigendian"), npz.keys());
            Tensor f8 = npz.tensor("f8", 2, 3);
            assertEquals(DType.F64, f8.dtype());
            for (int i = 0; i < 6; i++) assertEquals(i / 7.0, f8.getDouble(i), 0.0);
            assertArrayEquals(
                    new float[] {1.5f, -2.25f, 3e-8f, Float.POSITIVE_INFINITY},
                    npz.tensor("f4").toFloatArray(),
                    0f);
            Tensor u1 = npz.tensor("u1", 2, 2, 3);
            assertEquals(DType.U8, u1.dtype());
            assertEquals(220, u1.getLong(11));
            assertArrayEquals(new long[] {-3, 1L << 40}, npz.tensor("i8").toLongArray());
            assertEquals("clean-fid", npz.string("mode"));
            assertEquals(0, npz.tensor("empty", 0, 5).numel());

            String fortran = assertThrows(TesseraException.class, () -> npz.tensor("fortran"))
                    .getMessage();
            assertTrue(
                    fortran.contains(file) && fortran.contains("'fortran'") && fortran.contains("Fortran-ordered"),
                    fortran);
            String big = assertThrows(TesseraException.class, () -> npz.tensor("bigendian"))
                    .getMessage();
            assertTrue(big.contains("big-endian"), big);
            String missing = assertThrows(CheckpointException.class, () -> npz.tensor("mu"))
                    .getMessage();
            assertTrue(missing.contains("no array 'mu'") && missing.contains("f8, f4, u1"), missing);
            String shape = assertThrows(CheckpointException.class, () -> npz.tensor("f8", 3, 2))
                    .getMessage();
            assertTrue(shape.contains("'f8'") && shape.contains("[2, 3]"), shape);
        }
    }

    @Test
    void streamsRowsInOrder() {
        try (NpzFile npz = NpzFile.open(Golden.testdata().resolve("fid/numpy-savez-compressed.npz"));
                NpyRows rows = npz.stream("u1")) {
            assertEquals(2, rows.rows());
            assertEquals(6, rows.header().rowBytes());
            byte[] buf = new byte[6];
            rows.read(1, buf);
            assertEquals(0, buf[0]);
            rows.read(1, buf);
            assertEquals(120, buf[0] & 0xff);
            assertThrows(IllegalArgumentException.class, () -> rows.read(1, buf));
        }
    }

    @Test
    void roundTripsThroughTheWriter() {
        Path file = tmp.resolve("stats.npz");
        double[] mu = {0.5, -1e-300, 3.25};
        Tensor sigma = Tensor.ofFloats("sigma", new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
        new NpzWriter()
                .put("mu", doubles("mu", mu, 3))
                .put("sigma", sigma)
                .putString("preprocess", "adm")
                .write(file);
        try (NpzFile npz = NpzFile.open(file)) {
            assertEquals(List.of("mu", "sigma", "preprocess"), List.copyOf(npz.keys()));
            assertArrayEquals(mu, npz.tensor("mu", 3).toDoubleArray(), 0.0);
            assertArrayEquals(sigma.toFloatArray(), npz.tensor("sigma", 3, 3).toFloatArray(), 0f);
            assertEquals("adm", npz.string("preprocess"));
        }
        Path npy = tmp.resolve("x.npy");
        Npy.writeFile(npy, sigma);
        assertArrayEquals(sigma.toFloatArray(), Npy.readFile(npy, "x").toFloatArray(), 0f);
    }

    static Tensor doubles(String name, double[] v, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 8]);
        for (int i = 0; i < v.length; i++)
            seg.set(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8L * i, v[i]);
        return new Tensor(name, DType.F64, shape, seg);
    }

    @Test
    void headersAreAlignedAndShapesWritten() {
        byte[] h = Npy.header("<f4", new long[] {50000, 2048});
        assertEquals(0, h.length % 64);
        String text = new String(h, 10, h.length - 10, StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (50000, 2048), }"), text);
        assertTrue(new String(Npy.header("<f8", new long[] {7}), StandardCharsets.US_ASCII).contains("(7,)"));
    }

    @Test
    void badFilesGiveOneLineErrors() throws IOException {
        Path notZip = Files.writeString(tmp.resolve("ref.npz"), "hello");
        String e = assertThrows(CheckpointException.class, () -> NpzFile.open(notZip))
                .getMessage();
        assertTrue(e.contains("ref.npz") && e.contains("not an .npz file"), e);
        e = assertThrows(CheckpointException.class, () -> NpzFile.open(tmp.resolve("none.npz")))
                .getMessage();
        assertTrue(e.contains("none.npz") && e.contains("no such file"), e);
        Path npy = Files.writeString(tmp.resolve("x.npy"), "\u0093NUMPZ");
        e = assertThrows(TesseraException.class, () -> Npy.readFile(npy, "x")).getMessage();
        assertTrue(e.contains("x.npy"), e);
    }

    @Test
    void appenderSurvivesAnInterruptedAppend() throws IOException {
        Path file = tmp.resolve("pool3.npy");
        try (NpyAppender a = NpyAppender.open(file, 3)) {
            a.append(new float[] {1, 2, 3, 4, 5, 6}, 0, 2);
            assertEquals(2, a.rows());
        }
        assertArrayEquals(
                new float[] {1, 2, 3, 4, 5, 6}, Npy.readFile(file, "x").toFloatArray(), 0f);
        // an append cut short after some data bytes: the header still counts 2 rows
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length());
            raf.write(new byte[] {1, 2, 3, 4, 5});
        }
        try (NpyAppender a = NpyAppender.open(file, 3)) {
            assertEquals(2, a.rows());
            a.append(new float[] {7, 8, 9}, 0, 1);
            assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9}, a.read(1, 2), 0f);
            a.truncate(1);
        }
        assertArrayEquals(new float[] {1, 2, 3}, Npy.readFile(file, "x").toFloatArray(), 0f);
        String e = assertThrows(TesseraException.class, () -> NpyAppender.open(file, 4))
                .getMessage();
        assertTrue(e.contains("pool3.npy") && e.contains("(rows, 4)"), e);
    }
}
