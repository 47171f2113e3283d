package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import picocli.CommandLine.Mixin;

/**
 * The run every {@code generate} command shares: check the options (all before anything loads), load the family's
 * pipeline, resolve the classes, generate with a progress bar, write the PNGs and report. A family says what it
 * checks, how it loads, its settings and what it reports beyond the images.
 *
 * @param <S> the family's settings
 * @param <D> the family's details of a generation
 * @param <P> the family's pipeline
 */
abstract class GenerateBase<S extends SamplingSettings, D, P extends Pipeline<S, D>> extends CommandBase {
    @Mixin
    TargetOptions target = new TargetOptions();

    @Mixin
    SeedOption seed = new SeedOption();

    @Mixin
    LoadOptions load = new LoadOptions();

    /** The settings {@link #check} made from the options, for families whose defaults do not depend on the model. */
    S preset;

    GenerateBase(PrintStream out) {
        super(out);
    }

    /** Checks the family's options (its model files first); runs before {@code --class} and {@code --out} are read. */
    abstract void check();

    abstract P open(WeightPanels.Format format);

    /**
     * The settings for this model, from its defaults and the options: {@link #preset} unless the family says otherwise.
     */
    S settings(P pipe) {
        return preset;
    }

    /** The family's outputs and summary line after the images are written. */
    abstract void report(P pipe, Generation<D> g, int[] classes, S settings, double loadSeconds);

    /** The bundled models' folder from {@code dir}; missing files are a usage error that names the options. */
    static Path bundle(Supplier<Path> dir, String options) {
        try {
            return dir.get();
        } catch (TesseraException e) {
            throw new UsageException("no " + options + " given and " + e.getMessage());
        }
    }

    /** Whether {@link #check} chose the bundled Fashion-MNIST model (no model files given). */
    boolean bundled() {
        return false;
    }

    /** The classes by index or name (Fashion-MNIST's names for the bundled models). */
    int[] classes(P pipe, List<String> labels) {
        return bundled()
                ? labels.stream().mapToInt(BundledVar::resolve).toArray()
                : Outputs.classes(labels, pipe.numClasses());
    }

    /** What follows a class index in the "wrote" lines. */
    IntFunction<String> describe(P pipe) {
        return bundled() ? c -> " " + BundledModels.FASHION_MNIST_CLASSES.get(c) : Outputs.describer(pipe.numClasses());
    }

    /** Releases what {@link #settings} opened. */
    void release() {}

    @Override
    public final Integer call() {
        WeightPanels.Format format = load.start(out);
        check();
        List<String> labels = target.labels(this);
        List<Path> files = target.files(this, labels.size());
        long t0 = System.nanoTime();
        try (P pipe = open(format)) {
            int[] classes = classes(pipe, labels);
            S settings = settings(pipe);
            double loadSeconds = (System.nanoTime() - t0) * 1e-9;
            Generation<D> g = Outputs.generate(pipe, classes, seed.seed(), settings, files, out, describe(pipe));
            report(pipe, g, classes, settings, loadSeconds);
            if (load.deviceGiven()) out.println(DeviceOption.describe(load.ops()));
            long stored = load.packedWeights().bytesWritten();
            if (stored > 0) {
                out.printf(
                        Locale.ROOT,
                        "packed weights (%.1f MB) stored in %s; later runs map them (--weight-cache off: never)%n",
                        stored / 1e6,
                        load.packedWeights().dir());
            }
            return 0;
        } finally {
            release();
            load.close();
        }
    }
}
