package dev.tessera.engine.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One read-only memory mapping of a whole file. Checkpoint tensors are slices of {@link #segment()}, so the file is
 * mapped exactly once and nothing is copied. The arena is shared because tensors are read from many threads.
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;
    private boolean closed;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code path} read-only; I/O failures are a {@link CheckpointException} naming the file. */
    static MappedFile map(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            // The mapping stays valid after the channel is closed; it lives as long as the arena.
            MemorySegment segment = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return new MappedFile(path, arena, segment);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new CheckpointException(path, "cannot map the file (" + e + ")", e);
        }
    }

    Path path() {
        return path;
    }

    /** The whole file. */
    MemorySegment segment() {
        return segment;
    }

    long size() {
        return segment.byteSize();
    }

    /** The arena owning the mapping; copies that must live as long as the checkpoint are allocated here too. */
    Arena arena() {
        return arena;
    }

    /** Unmaps the file; later calls do nothing. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
