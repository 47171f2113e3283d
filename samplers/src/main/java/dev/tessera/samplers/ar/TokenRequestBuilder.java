package dev.tessera.samplers.ar;

/**
 * The options every token-sampling request shares (LlamaGen, NAR): classes, seed, classifier-free guidance with its
 * interval, and the {@link TokenDistribution} settings. Defaults follow the official class-conditional evaluations:
 * cfg 2.0, guidance on every token, temperature 1, no top-k/top-p filtering.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class TokenRequestBuilder<B extends TokenRequestBuilder<B>> {
    protected int[] classes;
    protected long seed;
    protected double cfg = 2.0;
    protected int cfgInterval = -1;
    private double temperature = 1.0, topP = 1.0;
    private int topK = 0;

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    public B classes(int... c) {
        this.classes = c.clone();
        return self();
    }

    public B seed(long s) {
        this.seed = s;
        return self();
    }

    public B cfg(double c) {
        this.cfg = c;
        return self();
    }

    public B cfgInterval(int i) {
        this.cfgInterval = i;
        return self();
    }

    public B temperature(double t) {
        this.temperature = t;
        return self();
    }

    public B topK(int k) {
        this.topK = k;
        return self();
    }

    public B topP(double p) {
        this.topP = p;
        return self();
    }

    /** The temperature, top-k and top-p settings as a distribution. */
    protected TokenDistribution distribution() {
        return new TokenDistribution(temperature, topK, topP);
    }
}
