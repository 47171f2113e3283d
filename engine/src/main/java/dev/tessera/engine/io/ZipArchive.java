package dev.tessera.engine.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip archive held in a memory mapping, as {@code torch.save} writes it: entries are
 * STORED so their bytes can be used in place. Supports zip64 (archives and entries beyond 4 GiB).
 *
 * <p>Every size and offset read from the file is untrusted: it is checked against the file size before use, so a
 * truncated or corrupt archive gives a {@link CheckpointException} rather than an out-of-bounds access.
 */
final class ZipArchive {
    /** Compression methods (APPNOTE 4.4.5). */
    static final int STORED = 0;

    static final int DEFLATED = 8;

    private static final int LOCAL_HEADER_SIG = 0x04034b50;
    private static final int CENTRAL_HEADER_SIG = 0x02014b50;
    private static final int END_SIG = 0x06054b50;
    private static final int ZIP64_END_SIG = 0x06064b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int END_SIZE = 22;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_END_SIZE = 56;
    private static final int CENTRAL_HEADER_SIZE = 46;
    private static final int LOCAL_HEADER_SIZE = 30;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final long U32_MAX = 0xffffffffL;
    private static final int U16_MAX = 0xffff;

    /** Entries read whole into a Java array (the pickle program) are capped; real ones are a few megabytes. */
    private static final long MAX_READ_FULLY = 256L << 20;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One central-directory record. {@code localHeaderOffset} points at the entry's local header. */
    record Entry(String name, int flags, int method, long compressedSize, long size, long localHeaderOffset) {
        /** The quoted name, safe for an error message. */
        String label() {
            return "'" + Untrusted.text(name) + "'";
        }
    }

    private final Path path;
    private final MemorySegment file;
    private final Map<String, Entry> entries;

    private ZipArchive(Path path, MemorySegment file, Map<String, Entry> entries) {
        this.path = path;
        this.file = file;
        this.entries = entries;
    }

    /** Reads the central directory of the archive mapped in {@code file}. */
    static ZipArchive read(Path path, MemorySegment file) {
        return new Reader(path, file).read();
    }

    /** All entries, in central-directory order. */
    Collection<Entry> entries() {
        return Collections.unmodifiableCollection(entries.values());
    }

    /** The entry named {@code name}, or null. */
    Entry entry(String name) {
        return entries.get(name);
    }

    /**
     * The bytes of a STORED entry, as a slice of the mapping (no copy). The data starts after the entry's local
     * header, whose name and extra lengths may differ from the central record's (PyTorch pads the local extra
     * field to align tensor data), so the local header is read here.
     */
    MemorySegment storedData(Entry e) {
        if (e.method() != STORED) {
            throw new CheckpointException(
                    path,
                    "zip entry " + e.label() + " is compressed (method " + e.method()
                            + "); tensor data must be stored uncompressed, as torch.save writes it");
        }
        return rawData(e);
    }

    /** The whole content of a STORED or DEFLATED entry, as a new array (for small entries such as the pickle). */
    byte[] readFully(Entry e) {
        if (e.size() > MAX_READ_FULLY) {
            throw corrupt("entry " + e.label() + " claims " + e.size() + " bytes, more than the "
                    + (MAX_READ_FULLY >> 20) + " MiB allowed for it");
        }
        MemorySegment raw = rawData(e);
        return switch (e.method()) {
            case STORED -> {
                if (raw.byteSize() != e.size()) {
                    throw corrupt("stored entry " + e.label() + " has compressed size " + raw.byteSize() + " but size "
                            + e.size());
                }
                yield raw.toArray(ValueLayout.JAVA_BYTE);
            }
            case DEFLATED -> inflate(e, raw);
            default ->
                throw new CheckpointException(
                        path,
                        "zip entry " + e.label() + " uses compression method " + e.method()
                                + ", which is not supported (only stored and deflated)");
        };
    }

    private MemorySegment rawData(Entry e) {
        if ((e.flags() & 1) != 0) {
            throw new CheckpointException(path, "zip entry " + e.label() + " is encrypted, which is not supported");
        }
        long header = e.localHeaderOffset();
        long size = file.byteSize();
        if (header < 0 || header > size - LOCAL_HEADER_SIZE) {
            throw corrupt("local header of " + e.label() + " at " + header + " lies outside the file");
        }
        if (file.get(U32, header) != LOCAL_HEADER_SIG) {
            throw corrupt("no local header signature for " + e.label() + " at " + header);
        }
        int nameLength = Short.toUnsignedInt(file.get(U16, header + 26));
        int extraLength = Short.toUnsignedInt(file.get(U16, header + 28));
        long start = header + LOCAL_HEADER_SIZE + nameLength + extraLength;
        if (e.compressedSize() < 0 || start > size || e.compressedSize() > size - start) {
            throw corrupt("data of " + e.label() + " (" + e.compressedSize() + " bytes at " + start
                    + ") runs past the end of the file (" + size + " bytes)");
        }
        return file.asSlice(start, e.compressedSize());
    }

    private byte[] inflate(Entry e, MemorySegment raw) {
        // Deflate cannot expand more than ~1032:1, so a larger claim is a corrupt (or hostile) header.
        if (e.size() > raw.byteSize() * 1032 + 1024) {
            throw corrupt("deflated entry " + e.label() + " claims an impossible size " + e.size());
        }
        byte[] out = new byte[(int) e.size()];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(raw.asByteBuffer());
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int got = inflater.inflate(out, n, out.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
                n += got;
            }
            if (n != out.length) {
                throw corrupt("deflated entry " + e.label() + " inflates to " + n + " bytes, expected " + e.size());
            }
            return out;
        } catch (DataFormatException ex) {
            throw corrupt("deflated entry " + e.label() + " is invalid: " + ex.getMessage());
        } finally {
            inflater.end();
        }
    }

    private CheckpointException corrupt(String detail) {
        return new CheckpointException(path, "truncated or corrupt zip archive (" + detail + ")");
    }

    /** Parsing state for {@link #read}: locates the end records, then walks the central directory. */
    private static final class Reader {
        private final Path path;
        private final MemorySegment file;
        private final long size;

        Reader(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
            this.size = file.byteSize();
        }

        ZipArchive read() {
            long end = findEndRecord();
            if (Short.toUnsignedInt(file.get(U16, end + 4)) != 0 || Short.toUnsignedInt(file.get(U16, end + 6)) != 0) {
                throw corrupt("multi-volume archives are not supported");
            }
            long count = Short.toUnsignedInt(file.get(U16, end + 10));
            long directorySize = Integer.toUnsignedLong(file.get(U32, end + 12));
            long directoryOffset = Integer.toUnsignedLong(file.get(U32, end + 16));

            long locator = end - ZIP64_LOCATOR_SIZE;
            if (locator >= 0 && file.get(U32, locator) == ZIP64_LOCATOR_SIG) {
                // Zip64: the 16/32-bit fields above are saturated; the real values are in the zip64 end record.
                long zip64End = file.get(U64, locator + 8);
                if (zip64End < 0 || zip64End > locator - ZIP64_END_SIZE || file.get(U32, zip64End) != ZIP64_END_SIG) {
                    throw corrupt("bad zip64 end-of-central-directory locator");
                }
                count = file.get(U64, zip64End + 32);
                directorySize = file.get(U64, zip64End + 40);
                directoryOffset = file.get(U64, zip64End + 48);
            } else if (count == U16_MAX || directorySize == U32_MAX || directoryOffset == U32_MAX) {
                throw corrupt("zip64 fields without a zip64 end-of-central-directory record");
            }
            if (directoryOffset < 0
                    || directorySize < 0
                    || directoryOffset > end
                    || directorySize > end - directoryOffset) {
                throw corrupt("central directory (" + directorySize + " bytes at " + directoryOffset
                        + ") lies outside the file");
            }
            if (count < 0 || count > directorySize / CENTRAL_HEADER_SIZE || count > Integer.MAX_VALUE) {
                throw corrupt("central directory of " + directorySize + " bytes cannot hold " + count + " entries");
            }
            long directoryEnd = directoryOffset + directorySize;
            return new ZipArchive(path, file, readEntries(directoryOffset, directoryEnd, (int) count));
        }

        /** Scans back from the end for the end-of-central-directory record (it may be followed by a comment). */
        private long findEndRecord() {
            long lowest = Math.max(0, size - END_SIZE - U16_MAX);
            for (long pos = size - END_SIZE; pos >= lowest; pos--) {
                if (file.get(U32, pos) == END_SIG) {
                    int commentLength = Short.toUnsignedInt(file.get(U16, pos + 20));
                    if (pos + END_SIZE + commentLength <= size) return pos;
                }
            }
            throw corrupt("no end-of-central-directory record");
        }

        private Map<String, Entry> readEntries(long pos, long limit, int count) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                if (pos > limit - CENTRAL_HEADER_SIZE || file.get(U32, pos) != CENTRAL_HEADER_SIG) {
                    throw corrupt("bad central directory record " + i + " at " + pos);
                }
                int flags = Short.toUnsignedInt(file.get(U16, pos + 8));
                int method = Short.toUnsignedInt(file.get(U16, pos + 10));
                long compressedSize = Integer.toUnsignedLong(file.get(U32, pos + 20));
                long uncompressedSize = Integer.toUnsignedLong(file.get(U32, pos + 24));
                int nameLength = Short.toUnsignedInt(file.get(U16, pos + 28));
                int extraLength = Short.toUnsignedInt(file.get(U16, pos + 30));
                int commentLength = Short.toUnsignedInt(file.get(U16, pos + 32));
                long localHeaderOffset = Integer.toUnsignedLong(file.get(U32, pos + 42));
                long next = pos + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
                if (next > limit) throw corrupt("central directory record " + i + " runs past the directory");

                long nameStart = pos + CENTRAL_HEADER_SIZE;
                String name = new String(
                        file.asSlice(nameStart, nameLength).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                long[] fields = {uncompressedSize, compressedSize, localHeaderOffset};
                applyZip64Extra(name, nameStart + nameLength, extraLength, fields);
                if (fields[0] < 0 || fields[1] < 0 || fields[2] < 0 || fields[2] >= size) {
                    throw corrupt("entry '" + Untrusted.text(name) + "' has an invalid size or offset");
                }
                // A repeated name is malformed; the first record wins rather than being silently replaced.
                entries.putIfAbsent(name, new Entry(name, flags, method, fields[1], fields[0], fields[2]));
                pos = next;
            }
            return entries;
        }

        /**
         * Replaces saturated 32-bit fields by their values from the zip64 extra field, which lists (in this order)
         * only those of uncompressed size, compressed size and local header offset that are saturated.
         */
        private void applyZip64Extra(String name, long pos, int length, long[] fields) {
            boolean[] saturated = {fields[0] == U32_MAX, fields[1] == U32_MAX, fields[2] == U32_MAX};
            if (!saturated[0] && !saturated[1] && !saturated[2]) return;
            long limit = pos + length;
            while (pos + 4 <= limit) {
                int id = Short.toUnsignedInt(file.get(U16, pos));
                int blockLength = Short.toUnsignedInt(file.get(U16, pos + 2));
                long data = pos + 4;
                if (data + blockLength > limit) break;
                if (id == ZIP64_EXTRA_ID) {
                    long at = data;
                    for (int f = 0; f < 3; f++) {
                        if (!saturated[f]) continue;
                        if (at + 8 > data + blockLength) {
                            throw corrupt("short zip64 extra field for '" + Untrusted.text(name) + "'");
                        }
                        fields[f] = file.get(U64, at);
                        at += 8;
                    }
                    return;
                }
                pos = data + blockLength;
            }
            throw corrupt("entry '" + Untrusted.text(name) + "' needs a zip64 extra field but has none");
        }

        private CheckpointException corrupt(String detail) {
            return new CheckpointException(path, "truncated or corrupt zip archive (" + detail + ")");
        }
    }
}
