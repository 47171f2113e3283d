package dev.tessera.engine.nn;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Helpers to view checkpoint tensors as the float32 data kernels read. */
public final class Weights {
    /** Little-endian float32, unaligned (checkpoint storages carry no alignment promise). */
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Weights() {}

    /** The float32 bytes of {@code t}: the mapped slice itself for F32, a widened copy otherwise. */
    public static MemorySegment f32(Tensor t) {
        if (t.dtype() == DType.F32) return t.data();
        return MemorySegment.ofArray(t.toFloatArray());
    }

    /** A heap segment over a float array (for activations used where kernels take segments). */
    public static MemorySegment of(float[] a) {
        return MemorySegment.ofArray(a);
    }
}
