package dev.tessera.samplers.rng;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A seeded random number generator that draws the same numbers as PyTorch's CPU generator
 * ({@code torch.Generator().manual_seed(seed)}): a 32-bit Mersenne Twister (mt19937) and PyTorch's rules for
 * turning its words into uniform, exponential and normal variates. Not thread-safe: one per generation.
 *
 * <ul>
 *   <li>{@code rand} float32: {@code (u32 & 0xFFFFFF)·2⁻²⁴}; float64: 53 bits from two words, first word high.</li>
 *   <li>{@code exponential_}: {@code −log1p(−u)} from a float64 uniform, rounded to float32.</li>
 *   <li>{@code randn} float32 (n ≥ 16): uniforms first, then Box–Muller over blocks of 16 (pairs j, j+8), the
 *       last partial block redrawn; float64 the same in double precision.</li>
 * </ul>
 */
public final class TorchGenerator {
    private static final int N = 624, M = 397;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int IL = I.length();
    /** Word pairs of a double vector: {@code 2·DL} ints read as {@code DL} longs. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    private static final int DL = D.length();
    private static final VectorSpecies<Integer> I2 = VectorSpecies.of(int.class, D.vectorShape());
    /** The bits of 2^52 as a double. */
    private static final long TWO52_BITS = Double.doubleToRawLongBits(0x1.0p52);

    private final int[] mt = new int[N];
    /** The tempered words of the current state, handed out in order. */
    private final int[] words = new int[N];

    private int index;

    public TorchGenerator(long seed) {
        // torch.manual_seed keeps the low 32 bits for mt19937's standard initialisation
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        index = N;
    }

    /** The next 32-bit word (as an unsigned value in a long). */
    public long nextU32() {
        if (index >= N) twist();
        return words[index++] & 0xffffffffL;
    }

    /**
     * The standard MT19937 state update, then the tempering of all N words into {@link #words}, in vector lanes.
     * Word i needs the old words i + 1 (loaded before the step stores anything) and i + M (the first N − M words:
     * not yet updated) or the new word i + M − N (the others: 227 behind, updated by earlier steps since a step has
     * fewer lanes than that).
     */
    private void twist() {
        int[] s = mt;
        int i = 0;
        for (; i + IL <= N - M; i += IL) {
            mix(IntVector.fromArray(I, s, i), IntVector.fromArray(I, s, i + 1))
                    .lanewise(VectorOperators.XOR, IntVector.fromArray(I, s, i + M))
                    .intoArray(s, i);
        }
        for (; i < N - M; i++) s[i] = s[i + M] ^ mix(s[i], s[i + 1]);
        for (; i + IL <= N - 1; i += IL) {
            mix(IntVector.fromArray(I, s, i), IntVector.fromArray(I, s, i + 1))
                    .lanewise(VectorOperators.XOR, IntVector.fromArray(I, s, i + M - N))
                    .intoArray(s, i);
        }
        for (; i < N - 1; i++) s[i] = s[i + M - N] ^ mix(s[i], s[i + 1]);
        s[N - 1] = s[M - 1] ^ mix(s[N - 1], s[0]);
        for (i = 0; i + IL <= N; i += IL) temper(IntVector.fromArray(I, s, i)).intoArray(words, i);
        for (; i < N; i++) words[i] = temper(s[i]);
        index = 0;
    }

    private static int temper(int y) {
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        return y ^ (y >>> 18);
    }

    private static IntVector temper(IntVector y) {
        y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 11));
        y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHL, 7).and(0x9d2c5680));
        y = y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHL, 15).and(0xefc60000));
        return y.lanewise(VectorOperators.XOR, y.lanewise(VectorOperators.LSHR, 18));
    }

    /** {@link #mix(int, int)} in every lane. */
    private static IntVector mix(IntVector a, IntVector b) {
        IntVector y = a.and(0x80000000).or(b.and(0x7fffffff));
        return y.lanewise(VectorOperators.LSHR, 1)
                .lanewise(VectorOperators.XOR, y.and(1).neg().and(0x9908b0df));
    }

    /** {@code y = upper bit of a | lower 31 bits of b}; {@code (y >>> 1) ^ (odd y ? 0x9908b0df : 0)}. */
    private static int mix(int a, int b) {
        int y = (a & 0x80000000) | (b & 0x7fffffff);
        return (y >>> 1) ^ (-(y & 1) & 0x9908b0df);
    }

    /** A float32 uniform in [0, 1): 24 random bits. */
    public float nextFloat() {
        return (nextU32() & 0xFFFFFF) * 0x1.0p-24f;
    }

    /** A float64 uniform in [0, 1): 53 random bits, the first word high. */
    public double nextDouble() {
        long hi = nextU32(), lo = nextU32();
        return (((hi << 32) | lo) & ((1L << 53) - 1)) * 0x1.0p-53;
    }

    /**
     * {@code n} values of {@link #nextDouble} into {@code out[off ..]}, the same stream; whole vectors of word pairs
     * at a time where the tempered block holds them (two words make a long with the first word high: the pair read
     * as a little-endian long, rotated by 32 bits).
     */
    public void nextDoubles(double[] out, int off, int n) {
        int i = 0;
        while (i < n) {
            if (index >= N) twist();
            int pairs = Math.min(n - i, (N - index) / 2) / DL * DL;
            if (pairs == 0) { // fewer than a vector's worth left in this block (or one word): one at a time
                out[off + i++] = nextDouble();
                continue;
            }
            for (int k = 0; k < pairs; k += DL, index += 2 * DL) {
                LongVector x = ((LongVector)
                                IntVector.fromArray(I2, words, index).reinterpretAsLongs())
                        .lanewise(VectorOperators.ROL, 32)
                        .and((1L << 53) - 1);
                // x as a double without a long-to-double conversion (an AVX-512 instruction): its low 52 bits as
                // the mantissa of 2^52 + low, minus 2^52; plus 2^52 where bit 52 is set. Every step is exact.
                DoubleVector low = x.and((1L << 52) - 1)
                        .or(TWO52_BITS)
                        .reinterpretAsDoubles()
                        .sub(0x1.0p52);
                DoubleVector high = x.lanewise(VectorOperators.LSHR, 52)
                        .neg()
                        .and(TWO52_BITS)
                        .reinterpretAsDoubles();
                low.add(high).mul(0x1.0p-53).intoArray(out, off + i + k);
            }
            i += pairs;
        }
    }

    /** An Exp(1) draw as {@code tensor.exponential_()} makes it for float32 tensors. */
    public float nextExponential() {
        return (float) -Math.log1p(-nextDouble());
    }

    /** Fills {@code out[off .. off+n)} like {@code torch.randn(n)} (float32, contiguous). */
    public void fillNormal(float[] out, int off, int n) {
        if (n < 16) {
            // PyTorch's scalar path: one float64 Box–Muller pair per two values
            for (int i = 0; i < n; i += 2) {
                double u1 = nextDouble(), u2 = nextDouble();
                double r = Math.sqrt(-2.0 * Math.log1p(-u2));
                double theta = 2.0 * Math.PI * u1;
                out[off + i] = (float) (r * Math.cos(theta));
                if (i + 1 < n) out[off + i + 1] = (float) (r * Math.sin(theta));
            }
            return;
        }
        for (int i = 0; i < n; i++) out[off + i] = nextFloat();
        for (int i = 0; i + 16 <= n; i += 16) boxMuller16(out, off + i);
        if (n % 16 != 0) {
            int last = off + n - 16;
            for (int i = 0; i < 16; i++) out[last + i] = nextFloat();
            boxMuller16(out, last);
        }
    }

    /** Fills {@code out[off .. off+n)} like {@code torch.randn(n, dtype=torch.float64)} (contiguous). */
    public void fillNormal(double[] out, int off, int n) {
        if (n < 16) {
            for (int i = 0; i < n; i += 2) {
                double u1 = nextDouble(), u2 = nextDouble();
                double r = Math.sqrt(-2.0 * Math.log1p(-u2));
                double theta = 2.0 * Math.PI * u1;
                out[off + i] = r * Math.cos(theta);
                if (i + 1 < n) out[off + i + 1] = r * Math.sin(theta);
            }
            return;
        }
        nextDoubles(out, off, n);
        for (int i = 0; i + 16 <= n; i += 16) boxMuller16(out, off + i);
        if (n % 16 != 0) {
            int last = off + n - 16;
            for (int i = 0; i < 16; i++) out[last + i] = nextDouble();
            boxMuller16(out, last);
        }
    }

    private static void boxMuller16(double[] a, int off) {
        for (int j = 0; j < 8; j++) {
            double u1 = 1 - a[off + j], u2 = a[off + j + 8];
            double r = Math.sqrt(-2 * Math.log(u1)), theta = 2.0 * Math.PI * u2;
            a[off + j] = r * Math.cos(theta);
            a[off + j + 8] = r * Math.sin(theta);
        }
    }

    private static void boxMuller16(float[] a, int off) {
        for (int j = 0; j < 8; j++) {
            float u1 = 1f - a[off + j], u2 = a[off + j + 8];
            float r = (float) Math.sqrt(-2f * (float) Math.log(u1));
            float theta = 2f * (float) Math.PI * u2;
            a[off + j] = r * (float) Math.cos(theta);
            a[off + j + 8] = r * (float) Math.sin(theta);
        }
    }
}
