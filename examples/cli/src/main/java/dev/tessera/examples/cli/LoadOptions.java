package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import picocli.CommandLine.Mixin;

import java.io.PrintStream;

/**
 * How a command loads and runs its models: {@code --weights} and {@code --threads}. A backend's {@code --device}
 * option belongs here too, so that every command that loads a model offers it.
 */
public final class LoadOptions {
    @Mixin
    WeightsOption weights = new WeightsOption();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    /** Checks the options before any work: the engine's thread count, then the weight format (bf16 announced on {@code notes}). */
    public WeightPanels.Format start(PrintStream notes) {
        threads.check();
        return weights.format(notes);
    }
}
