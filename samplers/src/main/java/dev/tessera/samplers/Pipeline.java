package dev.tessera.samplers;

/**
 * The one generation API every model family implements (VAR, LlamaGen, NAR, FlowAR): load once (each family's
 * {@code builder()...load()}), generate images for a list of classes with a seed as many times as needed, close.
 * <pre>{@code
 * try (VarPipeline var = VarPipeline.builder().model(m).vae(v).weights(WeightPanels.Format.BF16).load()) {
 *     Generation<VarDetails> r = var.generate(new int[] {207, 88}, 0);                  // official settings
 *     Generation<VarDetails> s = var.generate(new int[] {207}, 1, var.defaults().withCfg(4.0));
 *     r.images().get(0).writePng(Path.of("dog.png"));
 * }
 * }</pre>
 * Results depend only on the weights, the classes, the seed and the settings. A pipeline is thread-safe: weights are
 * shared and read-only, every call has its own state. Closing it unmaps the checkpoint files; results already
 * returned stay valid.
 *
 * @param <S> the family's sampling settings
 * @param <D> the family's details of a result (tokens, latents, statistics, timings)
 */
public interface Pipeline<S extends SamplingSettings, D> extends AutoCloseable {

    /** The family's name as the command line spells it: "var", "llamagen", "nar", "flowar" or "mar". */
    String family();

    /** How many classes the model knows (labels 0 .. numClasses−1). */
    int numClasses();

    /** The loaded model's configuration, in words. */
    String describe();

    /** The family's official sampling settings for this model (FlowAR's depend on its size). */
    S defaults();

    /** One image per class, in order, reporting progress ("scale", "token", "flow", "decode", ...) on this thread. */
    Generation<D> generate(int[] classes, long seed, S settings, Progress progress);

    default Generation<D> generate(int[] classes, long seed, S settings) {
        return generate(classes, seed, settings, Progress.NONE);
    }

    /** With the {@link #defaults() official settings}. */
    default Generation<D> generate(int[] classes, long seed) {
        return generate(classes, seed, defaults(), Progress.NONE);
    }

    @Override
    void close();
}
