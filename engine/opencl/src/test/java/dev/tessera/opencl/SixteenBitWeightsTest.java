package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.SixteenBitLinear;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Linear layers with float16 and bfloat16 weights on every backend of {@link BackendOpsTest#backends()} (the CPU,
 * each OpenCL device with both GEMM kernels, resident arguments) against a naive product of the same rounded weights
 * ({@link SixteenBitLinear}), and on OpenCL devices the weights held as 16 bits: a layer's upload takes 2 bytes per
 * weight (plus its float32 bias).
 */
class SixteenBitWeightsTest {
    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 64, 32}, {3, 100, 37}, {50, 200, 130}, {4, 1030, 70}};
        List<Arguments> out = new ArrayList<>();
        for (Ops o : BackendOpsTest.backends()) {
            for (WeightPanels.Format f : List.of(WeightPanels.Format.FP16, WeightPanels.Format.BF16)) {
                for (int[] s : shapes) out.add(Arguments.of(o, f, s));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}", autoCloseArguments = false)
    @MethodSource("cases")
    void linearMatchesNaiveProductAndHoldsTwoBytesPerWeight(Ops ops, WeightPanels.Format f, int[] s) {
        int M = s[0], in = s[1], out = s[2];
        long before = ops.deviceWeightBytes();
        double worst = SixteenBitLinear.check(ops, f, M, in, out, 7 + M);
        assertTrue(worst <= 1, "error " + worst + " of the tolerance");
        if (!ops.name().startsWith("cpu")) {
            assertEquals(
                    (long) out * in * 2 + (long) out * Float.BYTES,
                    ops.deviceWeightBytes() - before,
                    ops.name() + ": device bytes of a [" + out + ", " + in + "] " + f + " layer with bias");
        }
    }

    static Stream<Arguments> formats() {
        List<Arguments> out = new ArrayList<>();
        for (Ops o : BackendOpsTest.backends()) {
            for (WeightPanels.Format f : List.of(WeightPanels.Format.FP16, WeightPanels.Format.BF16)) {
                out.add(Arguments.of(o, f));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("formats")
    void everySixteenBitWeightWidensExactly(Ops ops, WeightPanels.Format f) {
        SixteenBitLinear.everyValueWidensExactly(ops, f);
    }
}
