package dev.tessera.samplers.ar;

/**
 * One image's tokens as a left-to-right sequence, the interface every token-level sampler drives (plain AR,
 * speculative sampling, LANTERN, Speculative Jacobi Decoding). It hides the model, its key/value cache and the
 * guidance: the logits it returns are already combined (classifier-free guidance). Not thread-safe.
 *
 * <p>State: the first {@link #fed()} tokens are in the cache. {@link #first()} gives the distribution of token 0;
 * {@link #feed} appends tokens and gives, for each of them, the distribution of the token after it;
 * {@link #truncate} forgets fed tokens (rejected drafts).
 */
public interface TokenSequence {

    /** Vocabulary size V. */
    int vocab();

    /** Tokens of a complete image (e.g. 256). */
    int length();

    /** Tokens in the cache. */
    int fed();

    /** The guided logits of token 0 (one forward: the condition). Call once, first. */
    float[] first();

    /**
     * Appends {@code tokens} after the {@link #fed()} cached ones, in one forward, and returns
     * {@code [tokens.length][V]}: row i holds the guided logits of token {@code fed + i + 1}.
     */
    float[][] feed(int[] tokens);

    /** Keeps the first {@code tokens} fed tokens. */
    void truncate(int tokens);

    /** Forward passes run so far (the condition's included). */
    int forwards();
}
