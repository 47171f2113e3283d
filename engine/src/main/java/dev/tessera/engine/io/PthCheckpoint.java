package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PyTorch checkpoint in the zip format {@code torch.save} has written since PyTorch 1.6: a zip archive whose
 * {@code <top>/data.pkl} entry is a pickle of the saved object and whose {@code <top>/data/<key>} entries hold raw
 * little-endian storage bytes. The top-level folder name varies ({@code archive}, or the file stem).
 *
 * <p>The file is mapped once; each tensor is a slice of the mapping (a non-contiguous one, which state dicts
 * practically never hold, is copied). The pickle is decoded by an allow-list {@link Unpickler}, so loading an
 * untrusted file never runs code from it. See {@link StateDictLocator} for how the state dict is found inside
 * training checkpoints.
 */
public final class PthCheckpoint extends TensorMapCheckpoint {
    private static final String PICKLE_NAME = "data.pkl";
    private static final long COPY_SLACK_BYTES = 256L << 20;

    private final MappedFile file;

    private PthCheckpoint(MappedFile file, Map<String, Tensor> tensors) {
        super(file.path(), tensors);
        this.file = file;
    }

    /**
     * Opens a {@code .pth} zip checkpoint. Failures (not a zip, truncated, corrupt, disallowed pickle content) are
     * a {@link CheckpointException} naming the file. Prefer {@link Checkpoints#open(Path)}, which also detects
     * safetensors files.
     */
    public static PthCheckpoint open(Path path) {
        return open(path, null);
    }

    /**
     * As {@link #open(Path)}; when the file wraps several state dicts, the one under {@code preferred} (e.g.
     * {@code "model_ema"}) is read if present.
     */
    public static PthCheckpoint open(Path path, String preferred) {
        MappedFile file = MappedFile.map(path);
        try {
            return new PthCheckpoint(file, readTensors(file, preferred));
        } catch (CheckpointException e) {
            file.close();
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // Defence in depth: every untrusted value is validated, but a corrupt file must never surface as an
            // IndexOutOfBoundsException or similar to the user.
            file.close();
            throw new CheckpointException(path, "truncated or corrupt checkpoint (" + e + ")", e);
        }
    }

    private static Map<String, Tensor> readTensors(MappedFile file, String preferred) {
        Path path = file.path();
        ZipArchive zip = ZipArchive.read(path, file.segment());
        ZipArchive.Entry pickle = findPickle(zip, path);
        String top = pickle.name().substring(0, pickle.name().length() - PICKLE_NAME.length());
        checkByteOrder(zip, top, path);

        Object root = new Unpickler(path, pickle.name(), zip.readFully(pickle)).load();
        Map<String, TensorRef> refs = StateDictLocator.locate(path, root, preferred);

        Map<String, MemorySegment> storages = new HashMap<>();
        // Copies of non-contiguous tensors may together take as much memory as the file, plus some slack.
        TensorViews.CopyBudget budget = new TensorViews.CopyBudget(file.size() + COPY_SLACK_BYTES);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
            TorchStorage storage = e.getValue().storage();
            MemorySegment bytes = storages.computeIfAbsent(
                    storage.key() + "\0" + storage.dtype(), k -> storageBytes(zip, top, storage, path));
            tensors.put(e.getKey(), TensorViews.view(path, e.getKey(), e.getValue(), bytes, file.arena(), budget));
        }
        return Collections.unmodifiableMap(tensors);
    }

    /** The {@code data.pkl} entry: at the root or in a single top-level folder, first one in the directory. */
    private static ZipArchive.Entry findPickle(ZipArchive zip, Path path) {
        for (ZipArchive.Entry e : zip.entries()) {
            String name = e.name();
            if (name.equals(PICKLE_NAME)) return e;
            int slash = name.indexOf('/');
            if (slash > 0 && name.indexOf('/', slash + 1) < 0 && name.endsWith("/" + PICKLE_NAME)) return e;
        }
        throw new CheckpointException(path, "not a PyTorch checkpoint: the zip archive has no data.pkl entry");
    }

    /** Newer torch versions record the byte order of the storages; only little-endian data can be mapped. */
    private static void checkByteOrder(ZipArchive zip, String top, Path path) {
        ZipArchive.Entry e = zip.entry(top + "byteorder");
        if (e == null) return; // older saves: always little-endian
        String order = new String(zip.readFully(e), StandardCharsets.US_ASCII).strip();
        if (!order.equals("little")) {
            throw new CheckpointException(
                    path,
                    "storages are saved in '" + Untrusted.text(order)
                            + "' byte order; only little-endian checkpoints are supported");
        }
    }

    /** The bytes of one storage, validated against the element count the pickle declares. */
    private static MemorySegment storageBytes(ZipArchive zip, String top, TorchStorage storage, Path path) {
        String name = top + "data/" + storage.key();
        ZipArchive.Entry e = zip.entry(name);
        if (e == null) {
            throw new CheckpointException(
                    path,
                    "storage '" + Untrusted.text(storage.key()) + "' is missing (no zip entry '" + Untrusted.text(name)
                            + "')");
        }
        MemorySegment data = zip.storedData(e);
        long needed;
        try {
            needed = Math.multiplyExact(storage.numel(), storage.dtype().byteSize());
        } catch (ArithmeticException overflow) {
            needed = Long.MAX_VALUE;
        }
        if (data.byteSize() < needed) {
            throw new CheckpointException(
                    path,
                    "storage '" + Untrusted.text(storage.key()) + "' holds "
                            + data.byteSize() + " bytes but the pickle declares " + storage.numel() + " "
                            + storage.dtype()
                            + " elements (" + needed + " bytes)");
        }
        return data.asSlice(0, needed);
    }

    @Override
    public void close() {
        file.close();
    }
}
