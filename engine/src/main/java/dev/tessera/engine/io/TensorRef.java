package dev.tessera.engine.io;

import java.util.Arrays;

/**
 * A tensor as a {@code .pth} pickle describes it (result of {@code torch._utils._rebuild_tensor_v2}): a strided
 * view of {@code storage} starting {@code offset} elements in. It becomes a {@link dev.tessera.engine.tensor.Tensor}
 * once its state-dict key is known (see {@link TensorViews}).
 */
record TensorRef(TorchStorage storage, long offset, long[] size, long[] stride) {

    /** Shallow, like {@link PickleObject#toString()}. */
    @Override
    public String toString() {
        return "tensor" + Arrays.toString(size);
    }
}
