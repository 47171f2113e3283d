package dev.tessera.opencl;

import static dev.tessera.opencl.BackendOpsTest.assertNear;
import static dev.tessera.opencl.BackendOpsTest.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.KvStorage;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel takes element offsets: an op on device-resident arrays (every array argument from {@code allocate},
 * through {@link ResidentArgs}) at non-zero offsets runs in place, with no device-side copy
 * ({@link OpenClOps#deviceCopies()}), and gives the reference's result and, bit for bit, the result of the same
 * device on host arrays (uploaded to scratch buffers at offset 0); so do the norms exactly in place. Other ops whose
 * output is also an input (the same array at overlapping or neighbouring ranges) may copy the range on the device:
 * they are held to the reference.
 */
class ResidentOffsetsTest {
    private static final Ops REF = Ops.reference();

    /** An op on fresh arrays (the same values for every backend); returns the arrays it wrote. */
    private record Case(String name, boolean aliased, Function<Ops, float[][]> run) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case plain(String name, Function<Ops, float[][]> run) {
        return new Case(name, false, run);
    }

    static Stream<Case> cases() {
        int rows = 6, C = 70, rpg = 4, stride = 6 * C + 5;
        float[] mod = random(2 * stride, 8);
        Conv2d conv3 = conv(5, 6, 3, 1, 17), conv1 = conv(6, 4, 1, 0, 19);
        GroupNorm gn = new GroupNorm(random(64, 19), random(64, 20), 32, 1e-6f);
        Rope2d rope = Rope2d.llamaGen(1, 8, 16, 10000f);
        int heads = 3, hd = rope.headDim(), ld = 3 * heads * hd, n = 67, ldg = 2 * n + 1;
        return Stream.of(
                plain("layerNorm + AdaLN", o -> {
                    float[] x = random(rows * C + 3, 7), y = random(rows * C + 5, 9);
                    o.layerNorm(x, 3, y, 5, rows, C, 1e-6f, mod, stride, 2 * C + 1, C, rpg);
                    return new float[][] {y};
                }),
                plain("rmsNorm weighted", o -> {
                    float[] x = random(rows * C + 3, 7), y = random(rows * C + 1, 9), w = random(C, 10);
                    o.rmsNorm(x, 3, y, 1, rows, C, 1e-5f, w);
                    return new float[][] {y};
                }),
                plain("modulate", o -> {
                    float[] x = random(rows * C + 4, 7);
                    o.modulate(x, 4, rows, C, mod, stride, 3 * C, 4 * C + 2, rpg);
                    return new float[][] {x};
                }),
                plain("addGated", o -> {
                    float[] x = random(rows * C + 2, 7), y = random(rows * C + 7, 10);
                    o.addGated(x, 2, y, 7, rows, C, mod, stride, 5 * C, rpg);
                    return new float[][] {x};
                }),
                plain("activate (every activation)", o -> {
                    float[] x = random(1005, 11);
                    for (Activation act : Activation.values()) o.activate(x, 5, 1000 - act.ordinal(), act);
                    return new float[][] {x};
                }),
                plain("softmax", o -> {
                    float[] x = random(109, 12);
                    o.softmax(x, 9, 100);
                    return new float[][] {x};
                }),
                plain("attention, strided output", o -> attention(o, 15)),
                plain("attention, packed output", o -> attention(o, 10)),
                plain("storeKv + attendKv", ResidentOffsetsTest::cachedAttention),
                plain("conv2d 3x3 (im2col)", o -> {
                    float[] in = random(5 * 9 * 7 + 2, 18), out = new float[6 * 9 * 7 + 3];
                    o.conv2d(in, 2, 9, 7, conv3, out, 3);
                    return new float[][] {out};
                }),
                plain("conv2d 1x1", o -> {
                    float[] in = random(6 * 8 * 5 + 3, 18), out = new float[4 * 8 * 5 + 2];
                    o.conv2d(in, 3, 8, 5, conv1, out, 2);
                    return new float[][] {out};
                }),
                plain("groupNorm + SiLU", o -> {
                    float[] x = random(64 * 99 + 1, 21), out = new float[64 * 99 + 2];
                    o.groupNorm(x, 1, 64, 99, gn, true, out, 2);
                    return new float[][] {out};
                }),
                plain("upsampleNearest2x", o -> {
                    float[] x = random(4 * 5 * 6 + 1, 21), out = new float[16 * 5 * 6 + 3];
                    o.upsampleNearest2x(x, 1, 4, 5, 6, out, 3);
                    return new float[][] {out};
                }),
                plain("rotary", o -> {
                    float[] x = random(11 * ld + 1, 22);
                    for (int part = 0; part < 2; part++)
                        o.rotary(x, 1 + part * heads * hd, ld, 11, heads, rope, new int[] {0, 5, 64, 9}, 3);
                    return new float[][] {x};
                }),
                plain("l2NormalizeHeads", o -> {
                    float[] x = random(11 * ld, 24), mul = random(heads, 23);
                    o.l2NormalizeHeads(x, heads * hd, ld, 11, heads, hd, mul);
                    return new float[][] {x};
                }),
                plain("gatedProduct", o -> {
                    float[] g = random(11 * ldg + 1, 25), u = random(11 * n + 4, 26), out = new float[11 * n + 2];
                    o.gatedProduct(g, 1, ldg, u, 4, n, 11, n, Activation.SILU, out, 2, n);
                    return new float[][] {out};
                }),
                plain("gatedProduct, gate and up in one array", o -> {
                    float[] g = random(11 * ldg + 1, 25), out = new float[11 * (n + 3) + 2];
                    o.gatedProduct(g, 1, ldg, g, 1 + n, ldg, 11, n, Activation.GELU_TANH, out, 2, n + 3);
                    return new float[][] {out};
                }),
                plain("gatedProduct in place", o -> {
                    float[] g = random(11 * ldg + 1, 25), u = random(11 * n + 4, 26);
                    o.gatedProduct(g, 1, ldg, u, 4, n, 11, n, Activation.GELU_ERF, g, 1, ldg);
                    return new float[][] {g};
                }),
                plain("addBroadcast", o -> {
                    float[] x = random(7 * 5 * 33 + 3, 27), table = random(5 * 33 + 4, 26);
                    o.addBroadcast(x, 3, 7, 5, 33, table, 4);
                    return new float[][] {x};
                }),
                plain("affine", o -> {
                    float[] x = random(35 * 33 + 3, 27);
                    o.affine(x, 3, 35, 33, random(33, 28), random(33, 29));
                    return new float[][] {x};
                }),
                plain("blend", o -> {
                    float[] x = random(1000, 30), y = random(903, 31);
                    o.blend(x, 7, 0.25f, y, 1, 0.75f, 900);
                    return new float[][] {y};
                }),
                plain("clamp", o -> {
                    float[] x = random(1002, 30);
                    o.clamp(x, 2, 1000, -0.5f, 0.5f);
                    return new float[][] {x};
                }),
                plain("lookupCodes", o -> {
                    int[] tokens = new int[73];
                    for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 11) % 37;
                    float[] out = new float[19 * 70 + 2];
                    o.lookupCodes(random(37 * 19, 41), 19, tokens, 3, 70, out, 2);
                    return new float[][] {out};
                }),
                plain("layerNorm in place", o -> {
                    float[] x = random(rows * C + 3, 7);
                    o.layerNorm(x, 3, x, 3, rows, C, 1e-6f, mod, stride, 2 * C + 1, C, rpg);
                    return new float[][] {x};
                }),
                plain("rmsNorm in place", o -> {
                    float[] x = random(rows * C + 3, 7);
                    o.rmsNorm(x, 3, x, 3, rows, C, 1e-5f, random(C, 10));
                    return new float[][] {x};
                }),
                plain("groupNorm + SiLU in place", o -> {
                    float[] x = random(64 * 99 + 1, 21);
                    o.groupNorm(x, 1, 64, 99, gn, true, x, 1);
                    return new float[][] {x};
                }),
                new Case("layerNorm into another range of its input's array (aliased)", true, o -> {
                    float[] x = random(2 * rows * C + 3, 7);
                    o.layerNorm(x, 3, x, 3 + rows * C, rows, C, 1e-6f, mod, stride, 2 * C + 1, C, rpg);
                    return new float[][] {x};
                }),
                new Case("addGated within one array (aliased)", true, o -> {
                    float[] x = random(2 * rows * C + 2, 7);
                    o.addGated(x, 2, x, 2 + rows * C, rows, C, null, 0, 0, 1);
                    return new float[][] {x};
                }),
                new Case("blend within one array (aliased)", true, o -> {
                    float[] x = random(2000, 30);
                    o.blend(x, 1000, 0.25f, x, 3, 0.75f, 900);
                    return new float[][] {x};
                }));
    }

    private static Conv2d conv(int cin, int cout, int k, int pad, long seed) {
        return new Conv2d(
                MemorySegment.ofArray(random(cout * cin * k * k, seed)),
                random(cout, seed + 1),
                cout,
                cin,
                k,
                k,
                1,
                pad,
                pad,
                pad,
                pad);
    }

    /** Two sequences, 2 heads of 5 (rows of 10), 4 causal queries over 7 keys; output rows at stride {@code ldo}. */
    private static float[][] attention(Ops o, int ldo) {
        int B = 2, H = 2, l = 4, d = 5, T = 7, tMax = 9, ldq = H * d + 3;
        float[] q = random(B * l * ldq + 2, 12), kT = random(B * H * d * tMax, 13), v = random(B * H * tMax * d, 14);
        float[] scale = {0.4f, 0.5f}, out = random(B * l * ldo + 1, 15);
        o.attention(B, H, l, d, q, 2, ldq, kT, v, tMax, T, true, scale, out, 1, ldo);
        return new float[][] {out};
    }

    /** Keys and values stored from an offset, then attended with queries and output at offsets (strided rows). */
    private static float[][] cachedAttention(Ops o) {
        int rows = 2, H = 2, d = 12, cap = 20, ld = 3 * H * d + 1, n = 5, ldo = H * d + 3;
        KvStorage kv = o.allocateKv(1, rows, H, d, cap);
        try {
            float[] qkv = random(rows * n * ld + 2, 31), out = random(rows * n * ldo + 1, 32);
            o.storeKv(kv, 0, rows, 0, qkv, 2, ld, H * d, 2 * H * d, n);
            o.attendKv(kv, 0, rows, n, qkv, 2, ld, n, true, new float[] {0.3f, 0.2f}, out, 1, ldo);
            return new float[][] {out};
        } finally {
            o.releaseKv(kv);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void residentArraysAtOffsetsAreUsedInPlace(Case c) {
        OpenClOps cl = (OpenClOps) OpenClTesting.first();
        Ops resident = ResidentArgs.wrap(cl);
        float[][] want = c.run().apply(REF), host = c.run().apply(cl);
        long copies = cl.deviceCopies();
        float[][] got = c.run().apply(resident);
        long made = cl.deviceCopies() - copies;
        for (int i = 0; i < want.length; i++) {
            assertNear(want[i], got[i], c.name() + " output " + i + " against the reference");
            if (!c.aliased()) assertBits(host[i], got[i], c.name() + " output " + i + " against host arrays");
        }
        if (!c.aliased()) assertEquals(0, made, c.name() + ": device-side copies on resident arrays at offsets");
    }

    /** nearestCodes reads z at an offset in place; its codes are those of the same device on a host array. */
    @Test
    void nearestCodesReadsAResidentArrayAtAnOffset() {
        OpenClOps cl = (OpenClOps) OpenClTesting.first();
        int K = 300, C = 16, n = 45;
        float[] codebook = random(K * C, 43), z = random(C * n + 5, 47), ee = new float[K];
        for (int k = 0; k < K; k++) for (int c = 0; c < C; c++) ee[k] += codebook[k * C + c] * codebook[k * C + c];
        int[] want = new int[n + 1], got = new int[n + 1];
        cl.nearestCodes(z, 5, C, n, codebook, ee, K, want, 1);
        float[] rz = cl.allocate(z.length);
        System.arraycopy(z, 0, rz, 0, z.length);
        cl.hostWrote(rz);
        long copies = cl.deviceCopies();
        cl.nearestCodes(rz, 5, C, n, codebook, ee, K, got, 1);
        assertEquals(0, cl.deviceCopies() - copies, "device-side copies");
        assertArrayEquals(want, got, "codes");
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
    }
}
