package dev.tessera.samplers;

import dev.tessera.engine.ops.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The samplers' softmax over a row of logits, float32 like PyTorch's: {@code e^(x − max)} by {@link VectorMath#exp}
 * (about 1 ulp, as PyTorch's own vectorised exp; the same bits in every lane and in the scalar tail), summed in
 * float64 front to back, then scaled by the float32 reciprocal of the sum.
 */
public final class Softmax {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private Softmax() {}

    /** Replaces {@code x[off .. off+V)} by its softmax. */
    public static void inPlace(float[] x, int off, int V) {
        int end = off + V, bound = off + S.loopBound(V), i = off;
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; i < bound; i += L) vmax = vmax.max(FloatVector.fromArray(S, x, i));
        float max = vmax.reduceLanes(VectorOperators.MAX); // exact in any order
        for (; i < end; i++) max = Math.max(max, x[i]);
        for (i = off; i < bound; i += L)
            VectorMath.exp(FloatVector.fromArray(S, x, i).sub(max)).intoArray(x, i);
        for (; i < end; i++) x[i] = VectorMath.exp(x[i] - max);
        double sum = 0;
        for (i = off; i < end; i++) sum += x[i];
        float inv = (float) (1.0 / sum);
        for (i = off; i < bound; i += L) FloatVector.fromArray(S, x, i).mul(inv).intoArray(x, i);
        for (; i < end; i++) x[i] *= inv;
    }
}
