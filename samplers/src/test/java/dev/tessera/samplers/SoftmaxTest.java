package dev.tessera.samplers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SoftmaxTest {
    @Test
    void matchesDoublePrecisionSoftmaxAndMasksExactly() {
        int V = 1000 + 7; // not a multiple of any vector length: a scalar tail
        Random r = new Random(3);
        float[] x = new float[V + 5];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 4;
        x[5 + 17] = Float.NEGATIVE_INFINITY;
        x[5 + V - 1] = Float.NEGATIVE_INFINITY; // in the tail
        float[] want = new float[V];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < V; v++) max = Math.max(max, x[5 + v]);
        for (int v = 0; v < V; v++) sum += Math.exp(x[5 + v] - max);
        for (int v = 0; v < V; v++) want[v] = (float) (Math.exp(x[5 + v] - max) / sum);
        Softmax.inPlace(x, 5, V);
        float total = 0;
        for (int v = 0; v < V; v++) {
            assertEquals(want[v], x[5 + v], 4e-7f * Math.max(want[v], 1e-3f), "p[" + v + "]");
            total += x[5 + v];
        }
        assertEquals(0f, x[5 + 17], 0f);
        assertEquals(0f, x[5 + V - 1], 0f);
        assertEquals(1f, total, 1e-5f);
    }

    @Test
    void givesTheSameBitsAtAnyOffset() {
        // lanes and the scalar tail compute the same exp: a row shifted by one element (other lanes, other tail)
        // comes out bit for bit the same
        int V = 300;
        Random r = new Random(4);
        float[] a = new float[V], b = new float[V + 1];
        for (int v = 0; v < V; v++) a[v] = b[v + 1] = (float) r.nextGaussian() * 3;
        Softmax.inPlace(a, 0, V);
        Softmax.inPlace(b, 1, V);
        assertArrayEquals(a, Arrays.copyOfRange(b, 1, V + 1));
    }
}
