package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Arrays from {@link OpenClOps#allocate} stay on the device: a chain of ops moves only what the host writes and reads
 * (counted by {@link OpenClOps#bytesToDevice()}/{@link OpenClOps#bytesFromDevice()}), with the results of the same
 * chain on host arrays; and the bookkeeping of ranges newer on either side.
 */
class ResidentActivationsTest {
    private static final int ROWS = 8, C = 64, HIDDEN = 256;

    /** x → LN → fc1 (GELU) → fc2 → x += ·, twice, then the host reads one row of x. */
    private static void chain(Ops ops, float[] x, float[] h, float[] f, Linear fc1, Linear fc2) {
        for (int k = 0; k < 2; k++) {
            ops.layerNorm(x, 0, h, 0, ROWS, C, 1e-6f, null, 0, 0, 0, 1);
            ops.linear(h, 0, ROWS, fc1, f, 0, Activation.GELU_TANH);
            ops.linear(f, 0, ROWS, fc2, h, 0, Activation.NONE);
            ops.addGated(x, 0, h, 0, ROWS, C, null, 0, 0, 1);
            ops.softmax(h, C, C);
        }
    }

    @Test
    void aChainOfOpsMovesOnlyWhatTheHostWritesAndReads() {
        OpenClOps cl = (OpenClOps) OpenClTesting.first();
        Linear fc1 = new Linear(
                MemorySegment.ofArray(BackendOpsTest.random(HIDDEN * C, 1)),
                BackendOpsTest.random(HIDDEN, 2),
                HIDDEN,
                C,
                WeightPanels.Format.F32);
        Linear fc2 = new Linear(
                MemorySegment.ofArray(BackendOpsTest.random(C * HIDDEN, 3)), null, C, HIDDEN, WeightPanels.Format.F32);
        float[] input = BackendOpsTest.random(ROWS * C, 4);

        // host arrays: every call uploads its inputs and downloads its result (a first run uploads the weights)
        chain(cl, input.clone(), new float[ROWS * C], new float[ROWS * HIDDEN], fc1, fc2);
        float[] x = input.clone(), h = new float[ROWS * C], f = new float[ROWS * HIDDEN];
        long up0 = cl.bytesToDevice(), down0 = cl.bytesFromDevice();
        chain(cl, x, h, f, fc1, fc2);
        long plainMoved = cl.bytesToDevice() - up0 + cl.bytesFromDevice() - down0;

        // resident arrays: the host writes x once and reads one row of x and the softmax row of h
        float[] rx = cl.allocate(ROWS * C), rh = cl.allocate(ROWS * C), rf = cl.allocate(ROWS * HIDDEN);
        System.arraycopy(input, 0, rx, 0, input.length);
        cl.hostWrote(rx);
        long up = cl.bytesToDevice(), down = cl.bytesFromDevice();
        chain(cl, rx, rh, rf, fc1, fc2);
        assertEquals(
                (long) ROWS * C * Float.BYTES,
                cl.bytesToDevice() - up,
                "uploaded: x once (the weights are on the device already)");
        assertEquals(0, cl.bytesFromDevice() - down, "nothing downloaded before the host asks");
        assertArrayEquals(new long[] {0, ROWS * C}, cl.residency(rx), "x: newer on the device, all of it");
        cl.toHost(rx, 3 * C, C);
        cl.toHost(rh, C, C);
        cl.toHost(rx, 3 * C, C); // already current: moves nothing
        assertEquals(2L * C * Float.BYTES, cl.bytesFromDevice() - down, "downloaded: the two rows read");
        for (int c = 0; c < C; c++) {
            assertEquals(x[3 * C + c], rx[3 * C + c], "x row 3, " + c);
            assertEquals(h[C + c], rh[C + c], "softmax row, " + c);
        }
        assertEquals(input[0], rx[0], "rows not asked for keep the host's stale values");
        long residentMoved = cl.bytesToDevice() - up + cl.bytesFromDevice() - down;
        System.out.printf(
                "chain of 10 ops: %d bytes moved with host arrays, %d with resident arrays%n",
                plainMoved, residentMoved);
        assertTrue(residentMoved * 8 < plainMoved, residentMoved + " vs " + plainMoved);
    }

    @Test
    void hostWritesReachTheNextOpAndOnlyTheirRangeMoves() {
        OpenClOps cl = (OpenClOps) OpenClTesting.first();
        int n = 1000;
        float[] a = cl.allocate(n);
        cl.clamp(a, 0, n, -1f, 1f); // the first use uploads the host's zeros (the device buffer starts undefined)
        assertArrayEquals(new long[] {0, n}, cl.residency(a));
        long up = cl.bytesToDevice();
        a[10] = 5f;
        a[11] = -7f;
        cl.hostWrote(a, 10, 2);
        assertArrayEquals(new long[] {2, n - 2}, cl.residency(a), "two host-newer values, the rest device-newer");
        cl.clamp(a, 0, n, -1f, 1f);
        assertEquals(2L * Float.BYTES, cl.bytesToDevice() - up, "only the two values written went up");
        cl.toHost(a, 0, n);
        assertEquals(1f, a[10]);
        assertEquals(-1f, a[11]);
        assertEquals(0f, a[12]);
        assertArrayEquals(new long[] {0, 0}, cl.residency(a), "in sync");
        assertEquals(null, cl.residency(new float[3]), "other arrays are not tracked");
    }

    @Test
    void rangesMergeAndSplit() {
        Ranges r = new Ranges();
        r.add(10, 20);
        r.add(30, 40);
        r.add(20, 30); // touching both: one range
        assertEquals(30, r.total());
        assertEquals(1, r.within(0, 100).size());
        r.subtract(15, 35);
        assertEquals(10, r.total());
        assertArrayEquals(new long[] {10, 15}, r.within(0, 100).get(0));
        assertArrayEquals(new long[] {35, 40}, r.within(0, 100).get(1));
        assertArrayEquals(new long[] {12, 15}, r.within(12, 36).get(0));
        assertArrayEquals(new long[] {35, 36}, r.within(12, 36).get(1));
        r.add(0, 5);
        r.subtract(0, 100);
        assertTrue(r.isEmpty());
    }
}
