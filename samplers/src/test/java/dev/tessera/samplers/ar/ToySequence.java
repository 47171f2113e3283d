package dev.tessera.samplers.ar;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A toy autoregressive model for sampler tests: the logits of token k are a fixed function of (seed, prefix),
 * Gaussian values from a generator seeded by a hash of the prefix (no lazily filled tables, so two instances with
 * the same seed always agree). {@code independent} makes the conditionals ignore the prefix.
 */
final class ToySequence implements TokenSequence {
    private final int V, N;
    private final long seed;
    private final double scale;
    private final boolean independent;
    private final List<Integer> fed = new ArrayList<>();
    private int forwards;

    ToySequence(int V, int N, long seed, double scale, boolean independent) {
        this.V = V;
        this.N = N;
        this.seed = seed;
        this.scale = scale;
        this.independent = independent;
    }

    ToySequence(int V, int N, long seed) {
        this(V, N, seed, 1.5, false);
    }

    /** The logits of the token after {@code prefix}. */
    float[] logits(List<Integer> prefix) {
        long h = seed * 0x9E3779B97F4A7C15L + prefix.size();
        if (!independent) for (int t : prefix) h = (h ^ (t + 1)) * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        SplittableRandom r = new SplittableRandom(h);
        float[] l = new float[V];
        for (int v = 0; v < V; v++) l[v] = (float) (r.nextGaussian() * scale);
        return l;
    }

    @Override
    public int vocab() {
        return V;
    }

    @Override
    public int length() {
        return N;
    }

    @Override
    public int fed() {
        return fed.size();
    }

    @Override
    public float[] first() {
        forwards++;
        return logits(List.of());
    }

    @Override
    public float[][] feed(int[] tokens) {
        forwards++;
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            fed.add(tokens[i]);
            out[i] = logits(new ArrayList<>(fed));
        }
        return out;
    }

    @Override
    public void truncate(int tokens) {
        while (fed.size() > tokens) fed.removeLast();
    }

    @Override
    public int forwards() {
        return forwards;
    }
}
