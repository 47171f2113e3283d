package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SafetensorsWriter} output, and {@link SafetensorsCheckpoint} on valid and invalid headers. */
class SafetensorsTest {
    @TempDir
    Path dir;

    /** A safetensors file with the given header text (not padded) and data bytes. */
    private Path file(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void writesStandardLayout() throws IOException {
        Path out = dir.resolve("t.safetensors");
        MemorySegment f16 = MemorySegment.ofArray(TestFiles.shorts(Float.floatToFloat16(0.5f)));
        List<Tensor> tensors = List.of(
                Tensor.ofFloats("z.last", new float[] {1, 2, 3}, 3),
                Tensor.ofLongs("a.first", new long[] {-4, 5}, 2, 1),
                new Tensor("h", DType.F16, new long[] {1}, f16),
                Tensor.ofFloats("empty", new float[0], 0, 2));
        SafetensorsWriter.write(out, tensors, Map.of("format", "pt"));

        byte[] bytes = Files.readAllBytes(out);
        long headerLength =
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertEquals(
                "{\"__metadata__\":{\"format\":\"pt\"},"
                        + "\"z.last\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                        + "\"a.first\":{\"dtype\":\"I64\",\"shape\":[2,1],\"data_offsets\":[12,28]},"
                        + "\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[28,30]},"
                        + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,2],\"data_offsets\":[30,30]}}",
                header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).isBlank(), "padded with spaces");
        assertEquals(8 + headerLength + 30, bytes.length);

        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(out)) {
            assertEquals(List.of("z.last", "a.first", "h", "empty"), new ArrayList<>(c.keys()));
            assertArrayEquals(new float[] {1, 2, 3}, c.tensor("z.last", 3).toFloatArray());
            assertArrayEquals(new long[] {-4, 5}, c.tensor("a.first", 2, 1).toLongArray());
            assertEquals(0.5f, c.tensor("h").getFloat(0), 0f);
            assertEquals(0, c.tensor("empty", 0, 2).numel());
            assertEquals(Map.of("format", "pt"), c.metadata());
            assertTrue(c.tensor("z.last").data().isMapped());
        }
        assertEquals(List.of(out), GoldenCheckpointsTest.listFiles(dir));
    }

    @Test
    void metadataIsWrittenInSortedOrder() throws IOException {
        // whatever order the map iterates in (Map.of's differs from one JVM run to the next), the same bytes
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("source", "x.pth");
        metadata.put("format", "pt");
        metadata.put("note", "n");
        Path out = dir.resolve("m.safetensors");
        SafetensorsWriter.write(out, List.of(Tensor.ofFloats("w", new float[] {1}, 1)), metadata);
        byte[] bytes = Files.readAllBytes(out);
        long headerLength =
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(
                header.startsWith("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"n\",\"source\":\"x.pth\"},"),
                header);
    }

    @Test
    void failedWriteLeavesNothingBehind() throws IOException {
        Path out = dir.resolve("dup.safetensors");
        Files.writeString(out, "previous content");
        List<Tensor> dup = List.of(Tensor.ofFloats("x", new float[] {1}, 1), Tensor.ofFloats("x", new float[] {2}, 1));
        TesseraException e = assertThrows(TesseraException.class, () -> SafetensorsWriter.write(out, dup, null));
        assertTrue(e.getMessage().startsWith(out + ": "), e.getMessage());
        assertEquals("previous content", Files.readString(out), "the old file is untouched");
        assertEquals(List.of(out), GoldenCheckpointsTest.listFiles(dir));

        Path missingDir = dir.resolve("no/such/dir/x.safetensors");
        assertThrows(
                TesseraException.class,
                () -> SafetensorsWriter.write(missingDir, List.of(Tensor.ofFloats("x", new float[] {1}, 1)), Map.of()));
    }

    @Test
    void headerLengthBeyondFileIsCorrupt() throws IOException {
        byte[] bytes = new byte[64];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000).put(8, (byte) '{');
        Path file = Files.write(dir.resolve("bad.safetensors"), bytes);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(file));
        assertEquals(
                file + ": truncated or corrupt safetensors file (header length 1000 exceeds the file size 64)",
                e.getMessage());

        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        Path huge = Files.write(dir.resolve("huge.safetensors"), bytes);
        assertTrue(assertThrows(CheckpointException.class, () -> Checkpoints.open(huge))
                .getMessage()
                .contains("header length 18446744073709551615 exceeds"));
    }

    @Test
    void invalidHeadersNameFileAndTensor() throws IOException {
        byte[] data = new byte[16];
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put(
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}",
                "tensor 'x' is invalid: data_offsets [0, 12] span 12 bytes but F32[2] needs 8");
        cases.put(
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
                "tensor 'x' is invalid: data_offsets [8, 24] lie outside the data section (16 bytes)");
        cases.put(
                "{\"x\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                "tensor 'x' is invalid: dtype C64 is not supported");
        cases.put(
                "{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                "tensor 'x' is invalid: its shape is not a list of non-negative integers");
        cases.put("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'x' is invalid: data_offsets is not");
        cases.put("{\"__metadata__\":{\"a\":1}}", "truncated or corrupt safetensors file (__metadata__ value");
        cases.put("[1,2]", "truncated or corrupt safetensors file (the header is not a JSON object)");
        cases.put("{\"x\":", "truncated or corrupt safetensors file (header: invalid JSON at line 1, column 6");
        int i = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path file = file("bad" + i++ + ".safetensors", c.getKey(), data);
            CheckpointException e = assertThrows(
                    CheckpointException.class, () -> Checkpoints.open(file).close());
            assertTrue(e.getMessage().startsWith(file + ": " + c.getValue()), e.getMessage());
        }
    }

    @Test
    void readsUnalignedOffsetsAndHeaderOrder() throws IOException {
        byte[] data = new byte[11];
        ByteBuffer.wrap(data)
                .order(ByteOrder.LITTLE_ENDIAN)
                .put(0, (byte) 1)
                .putFloat(1, 2.5f)
                .putShort(5, (short) -2)
                .putInt(7, 123456);
        Path file = file(
                "u.safetensors",
                "{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[1,5]},"
                        + "\"c\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[5,7]},"
                        + "\"d\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[7,11]}}",
                data);
        try (Checkpoint c = Checkpoints.open(file)) {
            assertEquals(List.of("b", "a", "c", "d"), new ArrayList<>(c.keys()));
            assertEquals(1, c.tensor("b").getLong(0));
            assertEquals(2.5f, c.tensor("a").getFloat(0), 0f);
            assertEquals(-2, c.tensor("c").getLong(0));
            assertEquals(123456, c.tensor("d", 1, 1).getLong(0));
            CheckpointException e = assertThrows(CheckpointException.class, () -> c.tensor("e"));
            assertEquals(file + ": missing tensor 'e' (did you mean 'b' or 'a' or 'c'?)", e.getMessage());
        }
    }
}
