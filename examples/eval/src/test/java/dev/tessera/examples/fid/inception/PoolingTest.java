package dev.tessera.examples.fid.inception;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/** The network's pools against PyTorch ({@code testdata/torch-ops/pooling.safetensors}) and by hand. */
class PoolingTest {

    @Test
    void poolsMatchPyTorch() {
        try (Checkpoint ref = Checkpoints.open(Golden.testdata().resolve("torch-ops/pooling.safetensors"))) {
            FeatureMap x = new FeatureMap(ref.tensor("input").toFloatArray(), 3, 9, 8);
            FeatureMap s2 = Pooling.max3x3(Ops.cpu(), x, 2, 0);
            assertEquals(4, s2.height());
            assertEquals(3, s2.width());
            assertArrayEquals(ref.tensor("max_s2").toFloatArray(), s2.data(), 0f);
            assertArrayEquals(
                    ref.tensor("max_s1p1").toFloatArray(),
                    Pooling.max3x3(Ops.cpu(), x, 1, 1).data(),
                    0f);
            Golden.assertClose(
                    ref.tensor("avg_exclude_pad").toFloatArray(),
                    Pooling.average3x3(Ops.cpu(), x).data(),
                    1e-6,
                    "avg pool");
            Golden.assertClose(
                    ref.tensor("global_avg").toFloatArray(),
                    Pooling.globalAverage(Ops.cpu(), x),
                    1e-6,
                    "global average");
        }
    }

    @Test
    void averagePoolDividesByCellsInsideTheImage() {
        // all ones: including the padding would give 4/9 at corners and 6/9 on edges
        FeatureMap ones = new FeatureMap(new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 1, 3, 3);
        assertArrayEquals(
                new float[] {1, 1, 1, 1, 1, 1, 1, 1, 1},
                Pooling.average3x3(Ops.cpu(), ones).data(),
                0f);
        FeatureMap ramp = new FeatureMap(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, 1, 3, 3);
        float[] avg = Pooling.average3x3(Ops.cpu(), ramp).data();
        assertEquals((0 + 1 + 3 + 4) / 4f, avg[0], 1e-6f); // corner: 4 cells
        assertEquals((0 + 1 + 2 + 3 + 4 + 5) / 6f, avg[1], 1e-6f); // edge: 6 cells
        assertEquals(4f, avg[4], 1e-6f); // inside: 9 cells
    }

    @Test
    void maxPoolIgnoresPaddingEvenForNegativeMaps() {
        FeatureMap neg = new FeatureMap(new float[] {-5, -4, -3, -2}, 1, 2, 2);
        assertArrayEquals(
                new float[] {-2, -2, -2, -2},
                Pooling.max3x3(Ops.cpu(), neg, 1, 1).data(),
                0f);
    }
}
