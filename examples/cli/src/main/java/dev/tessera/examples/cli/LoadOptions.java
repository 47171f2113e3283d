package dev.tessera.examples.cli;

import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import java.io.PrintStream;
import picocli.CommandLine.Mixin;

/**
 * How a command loads and runs its models: {@code --weights}, {@code --threads}, {@code --device} and
 * {@code --weight-cache}, so that every command that loads a model offers them all. {@link #start} checks them and
 * opens the device; {@link #close} releases it (device memory) when the command ends.
 */
public final class LoadOptions implements AutoCloseable {
    @Mixin
    WeightsOption weights = new WeightsOption();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Mixin
    DeviceOption device = new DeviceOption();

    @Mixin
    WeightCacheOption weightCache = new WeightCacheOption();

    private Ops ops;
    private PackedWeightCache packedWeights = PackedWeightCache.NONE;

    /**
     * Checks the options before any work: the engine's thread count, the weight format (bf16 or fp16 announced on
     * {@code notes}), then opens the device (a missing backend or device is one line).
     */
    public WeightPanels.Format start(PrintStream notes) {
        threads.check();
        WeightPanels.Format f = weights.format(notes);
        packedWeights = weightCache.cache();
        ops = device.open();
        return f;
    }

    /** Where the models keep their packed weights between runs ({@code --weight-cache}); set by {@link #start}. */
    public PackedWeightCache packedWeights() {
        return packedWeights;
    }

    /** The backend {@link #start} opened (the CPU before it). */
    public Ops ops() {
        return ops == null ? Ops.cpu() : ops;
    }

    /** Whether {@code --device} was given (the commands then say which device ran). */
    public boolean deviceGiven() {
        return device.given();
    }

    @Override
    public void close() {
        DeviceOption.close(ops);
        ops = null;
    }
}
