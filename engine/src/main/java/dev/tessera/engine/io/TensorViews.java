package dev.tessera.engine.io;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Turns a pickled strided tensor description into a {@link Tensor}: a slice of its storage when it is contiguous
 * (the normal case for state dicts, no copy), otherwise a contiguous copy.
 */
final class TensorViews {
    private TensorViews() {}

    /**
     * Caps the memory spent on copies of non-contiguous tensors. Such copies can be far larger than the file
     * (a stride-0 "expanded" view of one element can claim any size), so a hostile file could otherwise exhaust
     * memory; genuine checkpoints copy at most a few transposed weights.
     */
    static final class CopyBudget {
        private long left;

        CopyBudget(long bytes) {
            this.left = bytes;
        }

        void spend(Path file, String key, long bytes) {
            if (bytes > left) {
                throw new CheckpointException(
                        file,
                        "tensor '" + Untrusted.text(key) + "' is a non-contiguous "
                                + "view whose contiguous copy (" + bytes
                                + " bytes) would exceed the memory allowed for such "
                                + "copies");
            }
            left -= bytes;
        }
    }

    /**
     * @param storage the storage's bytes (exactly {@code numel * itemsize} of them)
     * @param arena   where a copy of a non-contiguous tensor is allocated (it lives as long as the checkpoint)
     * @param budget  what copies of non-contiguous tensors may still allocate
     */
    static Tensor view(Path file, String key, TensorRef ref, MemorySegment storage, Arena arena, CopyBudget budget) {
        DType dtype = ref.storage().dtype();
        long item = dtype.byteSize();
        long[] size = ref.size();
        long[] stride = ref.stride();
        long storageElements = storage.byteSize() / item;
        long numel;
        long byteCount;
        long lastElement = ref.offset(); // index of the furthest element the view touches
        try {
            if (ref.offset() < 0) throw new ArithmeticException("negative storage offset");
            numel = 1;
            for (int d = 0; d < size.length; d++) {
                if (size[d] < 0 || stride[d] < 0) throw new ArithmeticException("negative size or stride");
                numel = Math.multiplyExact(numel, size[d]);
            }
            byteCount = Math.multiplyExact(numel, item);
            if (numel == 0) {
                // Nothing to read, so the offset and strides are irrelevant (torch does not check them either).
                return new Tensor(key, dtype, size, MemorySegment.ofArray(new byte[0]));
            }
            for (int d = 0; d < size.length; d++) {
                lastElement = Math.addExact(lastElement, Math.multiplyExact(size[d] - 1, stride[d]));
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(
                    file,
                    "tensor '" + Untrusted.text(key) + "' has an invalid layout (size " + Arrays.toString(size)
                            + ", stride " + Arrays.toString(stride) + ", offset " + ref.offset() + ")");
        }
        if (lastElement >= storageElements) {
            throw new CheckpointException(
                    file,
                    "tensor '" + Untrusted.text(key) + "' (size " + Arrays.toString(size)
                            + ", stride " + Arrays.toString(stride) + ", offset " + ref.offset()
                            + ") reaches past the end of storage '"
                            + Untrusted.text(ref.storage().key()) + "' (" + storageElements + " elements)");
        }
        if (isContiguous(size, stride)) {
            return new Tensor(key, dtype, size, storage.asSlice(ref.offset() * item, byteCount));
        }
        budget.spend(file, key, byteCount);
        return new Tensor(key, dtype, size, copyStrided(storage, ref, numel, item, arena));
    }

    /** Row-major contiguity, ignoring the strides of size-1 dimensions (as {@code torch.Tensor.is_contiguous}). */
    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) return false;
            expected *= size[d];
        }
        return true;
    }

    /** Gathers a strided view into a new contiguous row-major segment (rare: transposed or sliced saves). */
    private static MemorySegment copyStrided(MemorySegment storage, TensorRef ref, long numel, long item, Arena arena) {
        long[] size = ref.size();
        long[] stride = ref.stride();
        int rank = size.length;
        MemorySegment out = arena.allocate(numel * item, 8);
        long rowLength = size[rank - 1];
        long innerStride = stride[rank - 1];
        long[] index = new long[rank]; // odometer over all dimensions but the last
        long written = 0;
        while (written < numel) {
            long source = ref.offset();
            for (int d = 0; d < rank - 1; d++) source += index[d] * stride[d];
            if (innerStride == 1) {
                MemorySegment.copy(storage, source * item, out, written * item, rowLength * item);
            } else {
                for (long i = 0; i < rowLength; i++) {
                    MemorySegment.copy(storage, (source + i * innerStride) * item, out, (written + i) * item, item);
                }
            }
            written += rowLength;
            for (int d = rank - 2; d >= 0; d--) {
                if (++index[d] < size[d]) break;
                index[d] = 0;
            }
        }
        return out;
    }
}
