package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Weights in a compute layout (the CPU GEMM's panels), kept on disk beside nothing else, so that a new process maps
 * them instead of packing them again.
 *
 * <p>Why: packing VAR-d16's linear weights writes 1.2 GB of memory the process has never touched, and on a virtual
 * machine the first touch of a page costs about 3 µs (3.4 s for those 1.2 GB here, more than half a steady-state
 * image). A cached file is in the page cache after the first run, so mapping it costs a few minor faults per 64 kB.
 *
 * <p>Layout: {@code DIR/<file name>-<16 hex digits>/<tensor>.<layout>}, the hex digits a digest of the source
 * file's real path, size and modification time, so a changed or moved checkpoint gets a fresh folder. Each file is
 * a {@value #HEADER}-byte header (a magic string, the layout, the source size and time) and the packed bytes.
 * A miss packs straight into a new file under a temporary name, which is then renamed into place (a reader never
 * sees a partial file; two processes packing the same tensor both succeed). Anything that goes wrong with the
 * folder (not writable, disk full, a file that does not match its header) falls back to packing in memory: the
 * cache never changes a result, only where the bytes live. Tensors under {@link #MIN_BYTES} are not cached.
 */
public final class PackedWeightCache {
    /** No cache: every packing goes to memory. */
    public static final PackedWeightCache NONE = new PackedWeightCache(null, Long.MAX_VALUE, Mappings.none());

    /** Smaller packed tensors are packed in memory: mapping a file costs more than packing them. */
    public static final long MIN_BYTES = 1 << 20;

    static final int HEADER = 256;
    private static final byte[] MAGIC = "tessera packed weights 1\n".getBytes(StandardCharsets.US_ASCII);

    private final Path dir;
    private final long minBytes;
    private final Mappings mappings;
    private final AtomicLong bytesMapped = new AtomicLong(), bytesWritten = new AtomicLong();

    private PackedWeightCache(Path dir, long minBytes, Mappings mappings) {
        this.dir = dir;
        this.minBytes = minBytes;
        this.mappings = mappings;
    }

    /** A cache in {@code dir} (created when first written) for packed tensors of {@link #MIN_BYTES} or more. */
    public static PackedWeightCache at(Path dir) {
        return at(dir, MIN_BYTES);
    }

    /** A cache in {@code dir} for packed tensors of {@code minBytes} or more (tests cache small models). */
    public static PackedWeightCache at(Path dir, long minBytes) {
        return at(dir, minBytes, Mappings.none());
    }

    /**
     * A cache in {@code dir} whose file mappings outlive the models that use them, in {@code mappings} (shared by
     * the caches of one long-lived process, so that loading a model again maps nothing again).
     */
    public static PackedWeightCache at(Path dir, long minBytes, Mappings mappings) {
        return new PackedWeightCache(dir.toAbsolutePath(), minBytes, Objects.requireNonNull(mappings));
    }

    /** The folder, or null for {@link #NONE}. */
    public Path dir() {
        return dir;
    }

    /** Bytes of packed weights this cache mapped from files written by earlier runs. */
    public long bytesMapped() {
        return bytesMapped.get();
    }

    /** Bytes of packed weights this cache wrote (first use of a checkpoint). */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    /**
     * The packed form of tensor {@code tensor} of {@code source}, {@code bytes} long in layout {@code layout} (a
     * short name that changes whenever the packed bytes would: format, panel width, shape). Mapped from the cache
     * when it holds it; otherwise a new segment filled by {@code pack} (which must write every byte), stored in the
     * cache for the next process when possible.
     */
    public MemorySegment packed(Path source, String tensor, String layout, long bytes, Consumer<MemorySegment> pack) {
        // an interrupted load (a cancelled command) stops here: its file channels would fail, and packing every
        // remaining layer in memory instead would take seconds
        if (Thread.currentThread().isInterrupted()) throw new TesseraException("cancelled while loading the model");
        if (dir == null || source == null || bytes < minBytes) return inMemory(bytes, pack);
        Path file;
        byte[] header;
        try {
            Path real = source.toRealPath();
            long size = Files.size(real), time = Files.getLastModifiedTime(real).toMillis();
            file = dir.resolve(folderName(real, size, time)).resolve(fileName(tensor, layout));
            header = header(layout, bytes, size, time);
        } catch (IOException | RuntimeException e) {
            return inMemory(bytes, pack);
        }
        MemorySegment cached = mappings.find(file, header);
        if (cached == null) {
            cached = map(file, header, bytes);
            if (cached != null) mappings.keep(file, header, cached);
        }
        if (cached != null) {
            bytesMapped.addAndGet(bytes);
            return cached;
        }
        MemorySegment written = write(file, header, bytes, pack);
        if (written != null) {
            bytesWritten.addAndGet(bytes);
            return written;
        }
        return inMemory(bytes, pack);
    }

    private static MemorySegment inMemory(long bytes, Consumer<MemorySegment> pack) {
        MemorySegment out = Arena.ofAuto().allocate(bytes, 64);
        pack.accept(out);
        return out;
    }

    /** The cached data, or null when the file is absent or does not match {@code header} and {@code bytes}. */
    private static MemorySegment map(Path file, byte[] header, long bytes) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != HEADER + bytes) return null;
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, HEADER + bytes, Arena.ofAuto());
            if (MemorySegment.mismatch(all, 0, HEADER, MemorySegment.ofArray(header), 0, HEADER) != -1) return null;
            return all.asSlice(HEADER, bytes, 64);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Packs into a new file under a temporary name and moves it into place; returns the packed data (still mapped)
     * or null when the file could not be written (then nothing is left behind).
     */
    private static MemorySegment write(Path file, byte[] header, long bytes, Consumer<MemorySegment> pack) {
        Path temp = null;
        try {
            Files.createDirectories(file.getParent());
            // the file is written through a mapping, where a full disk would be a fault, not an exception: only
            // start with room to spare
            if (Files.getFileStore(file.getParent()).getUsableSpace() < 2 * (HEADER + bytes) + (64L << 20)) {
                return null;
            }
            temp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
            MemorySegment all;
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[1]), HEADER + bytes - 1); // the final size
                all = ch.map(FileChannel.MapMode.READ_WRITE, 0, HEADER + bytes, Arena.ofAuto());
            }
            MemorySegment data = all.asSlice(HEADER, bytes, 64);
            pack.accept(data);
            MemorySegment.copy(MemorySegment.ofArray(header), 0, all, 0, HEADER);
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
            return data;
        } catch (IOException | RuntimeException e) {
            return null;
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the folder is not writable any more; the temporary name is all that is left
                }
            }
        }
    }

    static byte[] header(String layout, long bytes, long sourceSize, long sourceTime) {
        byte[] h = new byte[HEADER];
        System.arraycopy(MAGIC, 0, h, 0, MAGIC.length);
        byte[] text =
                (layout + "\n" + bytes + "\n" + sourceSize + "\n" + sourceTime + "\n").getBytes(StandardCharsets.UTF_8);
        if (MAGIC.length + text.length > HEADER) throw new IllegalArgumentException("layout name too long");
        System.arraycopy(text, 0, h, MAGIC.length, text.length);
        return h;
    }

    static String folderName(Path real, long size, long time) {
        String name = safe(real.getFileName().toString());
        return name + "-" + digest(real + "\n" + size + "\n" + time).substring(0, 16);
    }

    static String fileName(String tensor, String layout) {
        String name = safe(tensor) + "." + safe(layout);
        // very long keys (stacked layers) keep a readable head and a digest of the whole
        return name.length() <= 120
                ? name
                : name.substring(0, 100) + "-" + digest(name).substring(0, 16);
    }

    private static String safe(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(Character.isLetterOrDigit(c) && c < 128 || c == '.' || c == '-' || c == '+' ? c : '_');
        }
        return b.toString();
    }

    private static String digest(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Cached files a process keeps mapped after the models that used them are gone, up to a number of bytes, least
     * recently used first out. Why: mapping a file again faults every page in again, even from the page cache: 0.65 s
     * for VAR-d16's 1.2 GB on the development VM, a fifth of a steady-state image. A one-shot command keeps nothing
     * ({@link #none()}); the launcher's background process keeps what the commands it runs map, so a command that
     * loads the same model again finds its weights mapped. An entry is used only while its file is the same file
     * (same file key, size and modification time) and the header asked for matches the one it was mapped with.
     */
    public static final class Mappings {
        private final long limitBytes;
        private final LinkedHashMap<Path, Mapped> byFile = new LinkedHashMap<>(16, 0.75f, true);
        private long bytes;

        private record Mapped(Object fileKey, long size, FileTime modified, byte[] header, MemorySegment data) {}

        /** Keeps up to {@code limitBytes} of mapped weights. */
        public Mappings(long limitBytes) {
            this.limitBytes = limitBytes;
        }

        /** Keeps nothing: every load maps its files anew. */
        public static Mappings none() {
            return new Mappings(0);
        }

        /** Bytes of mapped weights kept now. */
        public synchronized long bytesKept() {
            return bytes;
        }

        synchronized MemorySegment find(Path file, byte[] header) {
            Mapped m = byFile.get(file);
            if (m == null) return null;
            BasicFileAttributes now = attributes(file);
            if (now != null
                    && Objects.equals(now.fileKey(), m.fileKey())
                    && now.size() == m.size()
                    && now.lastModifiedTime().equals(m.modified())
                    && Arrays.equals(header, m.header())) {
                return m.data();
            }
            byFile.remove(file);
            bytes -= m.data().byteSize();
            return null;
        }

        synchronized void keep(Path file, byte[] header, MemorySegment data) {
            if (data.byteSize() > limitBytes) return;
            BasicFileAttributes now = attributes(file);
            if (now == null || now.fileKey() == null) return;
            Mapped old = byFile.put(file, new Mapped(now.fileKey(), now.size(), now.lastModifiedTime(), header, data));
            if (old != null) bytes -= old.data().byteSize();
            bytes += data.byteSize();
            for (Iterator<Map.Entry<Path, Mapped>> it = byFile.entrySet().iterator(); bytes > limitBytes; ) {
                bytes -= it.next().getValue().data().byteSize();
                it.remove();
            }
        }

        private static BasicFileAttributes attributes(Path file) {
            try {
                return Files.readAttributes(file, BasicFileAttributes.class);
            } catch (IOException e) {
                return null;
            }
        }
    }
}
