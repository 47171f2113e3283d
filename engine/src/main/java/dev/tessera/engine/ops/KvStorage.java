package dev.tessera.engine.ops;

/**
 * The keys and values of a stack of attention layers, held where a backend computes: host arrays for the CPU and
 * reference backends, device memory for an accelerator, so that a step moves only its new positions. Obtained from
 * {@link Ops#allocateKv} and used only with the backend that made it.
 */
public interface KvStorage {
    int layers();

    /** Sequences. */
    int rows();

    int heads();

    int headDim();

    /** Positions per sequence. */
    int capacity();
}
