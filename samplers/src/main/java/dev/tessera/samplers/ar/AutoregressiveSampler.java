package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;

/** Plain autoregressive decoding: one target forward per token. The baseline of every speed-up. */
public final class AutoregressiveSampler {
    private final TokenDistribution dist;

    public AutoregressiveSampler(TokenDistribution dist) {
        this.dist = dist;
    }

    public Sampled run(TokenSequence target, TorchGenerator rng) {
        long t0 = System.nanoTime();
        int N = target.length(), V = target.vocab();
        int[] out = new int[N];
        float[] logits = target.first();
        for (int k = 0; k < N; k++) {
            out[k] = dist.sample(dist.probabilities(logits, 0, V), rng);
            if (k + 1 < N) logits = target.feed(new int[] {out[k]})[0];
        }
        return new Sampled(
                out, new SamplerStats("ar", 1, N, target.forwards(), 0, 0, 0, (System.nanoTime() - t0) * 1e-9));
    }
}
