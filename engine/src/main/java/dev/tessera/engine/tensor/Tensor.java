package dev.tessera.engine.tensor;

import dev.tessera.engine.TesseraException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A named, typed, shaped view over little-endian bytes. Checkpoint tensors are slices of one memory mapping of
 * their file (no copy); tensors made in memory are backed by Java arrays. Shapes are row-major (PyTorch order).
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;

    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        long expected = numel(shape) * dtype.byteSize();
        if (data.byteSize() != expected) {
            throw new TesseraException("tensor '" + name + "' " + dtype + Arrays.toString(shape) + " needs " + expected
                    + " bytes but has " + data.byteSize());
        }
    }

    /** A float32 tensor over a copy-free heap segment of {@code values}. */
    public static Tensor ofFloats(String name, float[] values, long... shape) {
        if (numel(shape) != values.length) {
            throw new IllegalArgumentException(
                    name + ": " + values.length + " values for shape " + Arrays.toString(shape));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, F32, 0, values.length);
        return new Tensor(name, DType.F32, shape, seg);
    }

    public static Tensor ofLongs(String name, long[] values, long... shape) {
        if (numel(shape) != values.length) {
            throw new IllegalArgumentException(
                    name + ": " + values.length + " values for shape " + Arrays.toString(shape));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 8]);
        MemorySegment.copy(values, 0, seg, I64, 0, values.length);
        return new Tensor(name, DType.I64, shape, seg);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return numel(shape);
    }

    /** The raw little-endian bytes (a slice of the checkpoint mapping for checkpoint tensors). */
    public MemorySegment data() {
        return data;
    }

    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Element {@code i} (flat, row-major) widened to float, for any floating dtype. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case F64 -> (float) data.getAtIndex(F64, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16, i));
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16, i) & 0xffff) << 16);
            case I64 -> data.getAtIndex(I64, i);
            case I32 -> data.getAtIndex(I32, i);
            case I16 -> data.getAtIndex(I16, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
        };
    }

    /** Element {@code i} as a long, for integer dtypes. */
    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> data.getAtIndex(I64, i);
            case I32 -> data.getAtIndex(I32, i);
            case I16 -> data.getAtIndex(I16, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            default -> throw new TesseraException("tensor '" + name + "' is " + dtype + ", expected an integer type");
        };
    }

    public double getDouble(long i) {
        return dtype == DType.F64 ? data.getAtIndex(F64, i) : getFloat(i);
    }

    /** All elements widened to float32 (a copy). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new TesseraException("tensor '" + name + "' is too large for a float[]");
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        }
        return out;
    }

    public double[] toDoubleArray() {
        long n = numel();
        double[] out = new double[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) out[i] = getDouble(i);
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = getLong(i);
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = Math.toIntExact(getLong(i));
        return out;
    }

    /** This tensor as float32: itself when already F32, otherwise a widened heap copy. */
    public Tensor asF32() {
        return dtype == DType.F32 ? this : ofFloats(name, toFloatArray(), shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
