package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;

/**
 * The acceptance test of speculative decoding for one draft token: given the target's processed distribution p,
 * the distribution q the draft was drawn from (null when the draft was chosen deterministically, i.e. q is one-hot
 * at it), decide whether x stands, and if not, which token replaces it.
 */
public interface Verifier {

    /** Returns {@code x} when accepted, otherwise the replacement token. */
    int verify(float[] p, float[] q, int x, TorchGenerator rng);

    /** Exact speculative sampling: accept with min(1, p(x)/q(x)), else sample {@code norm((p − q)₊)}. */
    Verifier EXACT = (p, q, x, rng) -> Speculation.acceptOrResample(p, p, q, x, rng);

    /** Greedy decoding: x stands iff it is the target's argmax; otherwise the argmax replaces it. */
    Verifier GREEDY = (p, q, x, rng) -> TokenDistribution.argmax(p);
}
