package dev.tessera.engine.io;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code .safetensors} file: an 8-byte little-endian header length, a JSON header mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data section that follows the
 * header) plus an optional {@code "__metadata__"} string map, then the raw little-endian tensor bytes.
 *
 * <p>The file is mapped once and every tensor is a slice of the mapping. All header values are validated against
 * the file before use. {@link #keys()} follows the header's order.
 */
public final class SafetensorsCheckpoint extends TensorMapCheckpoint {
    /** Larger headers are refused before anything is allocated (real ones are kilobytes; the reference cap). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    private final Map<String, String> metadata;

    private SafetensorsCheckpoint(MappedFile file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        super(file.path(), tensors);
        this.file = file;
        this.metadata = metadata;
    }

    /** Opens a safetensors file; any defect is a {@link CheckpointException} naming the file (and tensor). */
    public static SafetensorsCheckpoint open(Path path) {
        MappedFile file = MappedFile.map(path);
        try {
            return read(file);
        } catch (CheckpointException e) {
            file.close();
            throw e;
        } catch (RuntimeException e) {
            file.close();
            throw new CheckpointException(path, "truncated or corrupt safetensors file (" + e + ")", e);
        }
    }

    private static SafetensorsCheckpoint read(MappedFile file) {
        Path path = file.path();
        MemorySegment all = file.segment();
        long size = all.byteSize();
        if (size < 8) throw corrupt(path, "the file is " + size + " bytes, shorter than the 8-byte header length");
        long headerLength = all.get(U64, 0);
        // Unsigned in the format: a "negative" long is a length beyond 2^63, certainly larger than the file.
        if (headerLength < 0 || headerLength > size - 8) {
            throw corrupt(
                    path, "header length " + Long.toUnsignedString(headerLength) + " exceeds the file size " + size);
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw corrupt(path, "header length " + headerLength + " is over the " + MAX_HEADER_BYTES + "-byte limit");
        }
        Object header;
        try {
            header = Json.parse(Json.decodeUtf8(all.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE)));
        } catch (JsonException e) {
            throw corrupt(path, "header: " + e.getMessage());
        }
        if (!(header instanceof Map<?, ?> entries)) throw corrupt(path, "the header is not a JSON object");

        long dataStart = 8 + headerLength;
        MemorySegment data = all.asSlice(dataStart, size - dataStart);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = readMetadata(path, e.getValue());
            } else {
                tensors.put(name, readTensor(path, name, e.getValue(), data));
            }
        }
        return new SafetensorsCheckpoint(file, Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> readMetadata(Path path, Object value) {
        if (!(value instanceof Map<?, ?> map)) throw corrupt(path, METADATA_KEY + " is not a JSON object");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw corrupt(
                        path,
                        METADATA_KEY + " value for '" + Untrusted.text((String) e.getKey()) + "' is not a string");
            }
            metadata.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Tensor readTensor(Path path, String name, Object value, MemorySegment data) {
        if (!(value instanceof Map<?, ?> info)) throw badTensor(path, name, "its header entry is not a JSON object");
        if (!(info.get("dtype") instanceof String dtypeName)) throw badTensor(path, name, "it has no dtype");
        DType dtype = DType.fromSafetensorsName(dtypeName);
        if (dtype == null) {
            throw badTensor(
                    path,
                    name,
                    "dtype " + Untrusted.text(dtypeName) + " is not supported (supported: "
                            + Arrays.stream(DType.values())
                                    .map(DType::safetensorsName)
                                    .toList() + ")");
        }
        long[] shape = longs(info.get("shape"));
        if (shape == null || Arrays.stream(shape).anyMatch(d -> d < 0)) {
            throw badTensor(path, name, "its shape is not a list of non-negative integers");
        }
        long[] offsets = longs(info.get("data_offsets"));
        if (offsets == null || offsets.length != 2) throw badTensor(path, name, "data_offsets is not [begin, end]");
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw badTensor(
                    path,
                    name,
                    "data_offsets [" + begin + ", " + end + "] lie outside the data section (" + data.byteSize()
                            + " bytes)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(Tensor.numel(shape), dtype.byteSize());
        } catch (ArithmeticException overflow) {
            expected = -1;
        }
        if (end - begin != expected) {
            throw badTensor(
                    path,
                    name,
                    "data_offsets [" + begin + ", " + end + "] span " + (end - begin) + " bytes but " + dtype
                            + Arrays.toString(shape) + " needs " + expected);
        }
        return new Tensor(name, dtype, shape, data.asSlice(begin, end - begin));
    }

    /** A JSON array of integers as a long[], or null when it is anything else. */
    private static long[] longs(Object value) {
        if (!(value instanceof List<?> list)) return null;
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long n)) return null;
            out[i] = n;
        }
        return out;
    }

    private static CheckpointException corrupt(Path path, String detail) {
        return new CheckpointException(path, "truncated or corrupt safetensors file (" + detail + ")");
    }

    private static CheckpointException badTensor(Path path, String name, String why) {
        return new CheckpointException(path, "tensor '" + Untrusted.text(name) + "' is invalid: " + why);
    }

    /** The header's {@code __metadata__} string map (empty when absent), in file order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        file.close();
    }
}
