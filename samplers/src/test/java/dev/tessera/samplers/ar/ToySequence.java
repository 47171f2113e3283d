package dev.tessera.samplers.ar;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A toy autoregressive model for sampler tests: the logits of token k are a fixed function of (seed, prefix),
 * Gaussian values from a generator seeded by a hash of the prefix (no lazily filled tables, so two instances with
 * the same seed always agree). {@code independent} makes the conditionals ignore the prefix. With guidance the toy
 * has a second, unconditional logit source and returns {@code u + (c − u)·cfg} combined by
 * {@link TokenDistribution#guided}, as the LlamaGen sequence does.
 *
 * <p>The toy's "key/value cache" is the list of fed tokens: a sampler that forgets to cut a rejected draft sees
 * logits conditioned on the wrong prefix. Every {@link #feed} is recorded with the number of its tokens the next
 * {@link #truncate} dropped ({@link #rounds}), so tests can see which paths a sampler went through.
 */
final class ToySequence implements TokenSequence {
    private final int V, N;
    private final long seed, unconditionalSeed, noiseSeed;
    private final float cfg;
    private final double scale, noise;
    private final boolean independent, guided;
    private final List<Integer> fed = new ArrayList<>();
    private int forwards;
    /** Per feed: {tokens fed, tokens of them cut by the truncation that followed}. */
    final List<int[]> rounds = new ArrayList<>();

    private ToySequence(
            int V,
            int N,
            long seed,
            double scale,
            boolean independent,
            boolean guided,
            long unconditionalSeed,
            float cfg,
            long noiseSeed,
            double noise) {
        this.V = V;
        this.N = N;
        this.seed = seed;
        this.scale = scale;
        this.independent = independent;
        this.guided = guided;
        this.unconditionalSeed = unconditionalSeed;
        this.cfg = cfg;
        this.noiseSeed = noiseSeed;
        this.noise = noise;
    }

    ToySequence(int V, int N, long seed, double scale, boolean independent) {
        this(V, N, seed, scale, independent, false, 0, 0f, 0, 0);
    }

    ToySequence(int V, int N, long seed) {
        this(V, N, seed, 1.5, false);
    }

    /** A guided toy: conditional logits from {@code seed}, unconditional ones from {@code unconditionalSeed}. */
    static ToySequence guided(int V, int N, long seed, long unconditionalSeed, double scale, float cfg) {
        return new ToySequence(V, N, seed, scale, false, true, unconditionalSeed, cfg, 0, 0);
    }

    /**
     * A draft model close to this one: every raw logit moved by Gaussian noise of standard deviation
     * {@code noise} (from {@code noiseSeed}, a function of the prefix too).
     */
    ToySequence perturbed(long noiseSeed, double noise) {
        return new ToySequence(V, N, seed, scale, independent, guided, unconditionalSeed, cfg, noiseSeed, noise);
    }

    /** The (guided) logits of the token after {@code prefix}, as the samplers see them. */
    float[] logits(List<Integer> prefix) {
        if (!guided) return conditional(prefix);
        float[] both = new float[2 * V];
        System.arraycopy(conditional(prefix), 0, both, 0, V);
        System.arraycopy(unconditional(prefix), 0, both, V, V);
        return TokenDistribution.guided(both, 0, V, true, cfg, V);
    }

    /** The raw conditional logits after {@code prefix}. */
    float[] conditional(List<Integer> prefix) {
        return raw(seed, prefix);
    }

    /** The raw unconditional logits after {@code prefix} (guided toys only). */
    float[] unconditional(List<Integer> prefix) {
        if (!guided) throw new IllegalStateException("not a guided toy");
        return raw(unconditionalSeed, prefix);
    }

    boolean isGuided() {
        return guided;
    }

    private float[] raw(long s, List<Integer> prefix) {
        float[] l = gaussians(s, prefix, scale);
        if (noise > 0) {
            float[] e = gaussians(noiseSeed ^ s, prefix, noise);
            for (int v = 0; v < V; v++) l[v] += e[v];
        }
        return l;
    }

    private float[] gaussians(long s, List<Integer> prefix, double sd) {
        long h = s * 0x9E3779B97F4A7C15L + prefix.size();
        if (!independent) for (int t : prefix) h = (h ^ (t + 1)) * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        SplittableRandom r = new SplittableRandom(h);
        float[] l = new float[V];
        for (int v = 0; v < V; v++) l[v] = (float) (r.nextGaussian() * sd);
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
        rounds.add(new int[] {tokens.length, 0});
        float[][] out = new float[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            fed.add(tokens[i]);
            out[i] = logits(new ArrayList<>(fed));
        }
        return out;
    }

    @Override
    public void truncate(int tokens) {
        if (fed.size() > tokens && !rounds.isEmpty()) rounds.getLast()[1] += fed.size() - tokens;
        while (fed.size() > tokens) fed.removeLast();
    }

    @Override
    public int forwards() {
        return forwards;
    }
}
