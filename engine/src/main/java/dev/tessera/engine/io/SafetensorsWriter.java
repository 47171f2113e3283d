package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes standard {@code .safetensors} files (readable by the Python {@code safetensors} package and by
 * {@link SafetensorsCheckpoint}): tensors in the given order, contiguous, the JSON header padded with spaces so that
 * the data section starts 8-byte aligned.
 *
 * <p>The file is written under a temporary name in the target directory and then moved into place atomically, so a
 * failure (or a crash) never leaves a partial file under the final name.
 */
public final class SafetensorsWriter {
    private static final int COPY_CHUNK = 1 << 20;

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} (names must be unique and not {@code __metadata__}) and the optional {@code metadata}
     * (null or empty for none) to {@code out}, replacing any existing file. Failures are a
     * {@link TesseraException} naming {@code out}.
     */
    public static void write(Path out, Collection<Tensor> tensors, Map<String, String> metadata) {
        // One snapshot, so that the header and the data are written from the same sequence of tensors.
        List<Tensor> list = List.copyOf(tensors);
        byte[] header = header(out, list, metadata);
        Path target = out.toAbsolutePath();
        Path temp = null;
        try {
            temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                writeFully(
                        ch,
                        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
                writeFully(ch, ByteBuffer.wrap(header));
                byte[] chunk = new byte[COPY_CHUNK];
                for (Tensor t : list) writeSegment(ch, t.data(), chunk);
                ch.force(true); // the data must be on disk before the rename makes it visible
            }
            moveIntoPlace(temp, target);
            temp = null;
        } catch (IOException | RuntimeException e) {
            throw new TesseraException(out + ": cannot write safetensors file (" + e + ")", e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // Best effort: the original failure is what the caller needs to see.
                }
            }
        }
    }

    /** The JSON header, space-padded to a multiple of 8 bytes. */
    private static byte[] header(Path out, Collection<Tensor> tensors, Map<String, String> metadata) {
        Map<String, Object> header = new LinkedHashMap<>();
        // sorted: the same bytes in every run whatever the map's own order (Map.of's changes from run to run)
        if (metadata != null && !metadata.isEmpty())
            header.put(SafetensorsCheckpoint.METADATA_KEY, new TreeMap<>(metadata));
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            if (t.name().equals(SafetensorsCheckpoint.METADATA_KEY) || !names.add(t.name())) {
                throw new TesseraException(out + ": cannot write tensor named '" + t.name()
                        + "' (names must be unique and not " + SafetensorsCheckpoint.METADATA_KEY + ")");
            }
            long end = offset + t.data().byteSize();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().safetensorsName());
            info.put("shape", t.shape());
            info.put("data_offsets", List.of(offset, end));
            header.put(t.name(), info);
            offset = end;
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] bytes = new byte[padded];
        System.arraycopy(json, 0, bytes, 0, json.length);
        for (int i = json.length; i < padded; i++) bytes[i] = ' ';
        return bytes;
    }

    /** Copies through a heap buffer: tensor data may be a mapping, native memory or any kind of heap array. */
    private static void writeSegment(FileChannel ch, MemorySegment data, byte[] chunk) throws IOException {
        long size = data.byteSize();
        for (long at = 0; at < size; at += chunk.length) {
            int n = (int) Math.min(chunk.length, size - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, chunk, 0, n);
            writeFully(ch, ByteBuffer.wrap(chunk, 0, n));
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) ch.write(buffer);
    }

    private static void moveIntoPlace(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
