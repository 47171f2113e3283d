package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;

/**
 * LANTERN's relaxed acceptance (Jang et al., ICLR 2025; LANTERN++ when {@code delta > 1}), in the chain form with
 * the principled residual. For a draft x with k nearest codes {@code nb₁..nb_k} in the tokenizer's latent space,
 * the longest prefix {@code nb₁..nb_m} whose cumulative target mass stays within the budget (δ, or (λ−1)·p(x)) is
 * merged into x: {@code p̃(x) = p(x) + Σ p(nb_j)}, {@code p̃(nb_j) = 0}. The draft is accepted with
 * {@code min(1, p̃(x)/q(x))}; otherwise {@code norm((p̃ − q)₊)} is sampled. With δ = 0 nothing with mass moves and
 * this is exactly speculative sampling.
 */
public final class LanternVerifier implements Verifier {
    private final LatentNeighbours neighbours;
    private final int k;
    private final double delta;

    /**
     * @param k     neighbours considered per token (at most the table's)
     * @param delta the total-variation budget δ ∈ [0, 1], or LANTERN++'s λ when greater than 1
     */
    public LanternVerifier(LatentNeighbours neighbours, int k, double delta) {
        if (k < 0 || k > neighbours.k()) throw new IllegalArgumentException("k must be in [0, " + neighbours.k() + "]");
        if (!(delta >= 0)) throw new IllegalArgumentException("delta must be >= 0");
        this.neighbours = neighbours;
        this.k = k;
        this.delta = delta;
    }

    @Override
    public int verify(float[] p, float[] q, int x, TorchGenerator rng) {
        float[] relaxed = relaxed(p, x);
        return Speculation.acceptOrResample(relaxed, p, q, x, rng);
    }

    /**
     * The verification target p̃ for candidate x (a new array; p itself when nothing moves). The cumulative mass
     * and the budget are compared in float32, as the released code compares a float tensor with the budget.
     */
    float[] relaxed(float[] p, int x) {
        float bound = delta > 1 ? (float) (delta - 1) * p[x] : (float) delta;
        float c = 0f;
        int m = 0;
        for (int j = 0; j < k; j++) {
            c += p[neighbours.neighbour(x, j)];
            if (c <= bound) m = j + 1;
            else break;
        }
        if (m == 0) return p;
        float[] r = p.clone();
        double mass = p[x];
        for (int j = 0; j < m; j++) {
            int nb = neighbours.neighbour(x, j);
            mass += p[nb];
            r[nb] = 0f;
        }
        r[x] = (float) mass;
        return r;
    }
}
