package dev.tessera.samplers;

/**
 * What every family's pipeline shares: the open checkpoint files (closed with the pipeline), the family's generator
 * that {@link #generate} hands each call to, and the model's class count and description. A family adds its loader
 * (a builder), its {@link #defaults()} and typed accessors.
 */
public abstract class LoadedPipeline<S extends SamplingSettings, D> implements Pipeline<S, D> {
    /** A family's sampling algorithm over loaded weights: one call per batch of classes. */
    @FunctionalInterface
    public interface Generator<S, D> {
        Generation<D> generate(int[] classes, long seed, S settings, Progress progress);
    }

    private final String family;
    private final OpenCheckpoints files;
    private final Generator<S, D> generator;
    private final int numClasses;
    private final String description;

    protected LoadedPipeline(
            String family, OpenCheckpoints files, Generator<S, D> generator, int numClasses, Object config) {
        this.family = family;
        this.files = files;
        this.generator = generator;
        this.numClasses = numClasses;
        this.description = String.valueOf(config);
    }

    @Override
    public final String family() {
        return family;
    }

    @Override
    public final int numClasses() {
        return numClasses;
    }

    @Override
    public final String describe() {
        return description;
    }

    @Override
    public final Generation<D> generate(int[] classes, long seed, S settings, Progress progress) {
        return generator.generate(classes, seed, settings, progress);
    }

    @Override
    public final void close() {
        files.close();
    }
}
