package dev.tessera.samplers;

/** Receives progress of long work (scales sampled, images decoded). Called on the generating thread. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (stage, done, total) -> {};

    /** {@code done} of {@code total} units of {@code stage} ("scale", "decode", ...) are finished. */
    void update(String stage, int done, int total);
}
