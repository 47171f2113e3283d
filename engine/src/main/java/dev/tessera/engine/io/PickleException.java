package dev.tessera.engine.io;

/**
 * Why the pickle program of a {@code .pth} file was not loaded. {@link Unpickler} turns it into a
 * {@link CheckpointException} naming the file; a malformed program also gets the opcode position appended.
 */
final class PickleException extends RuntimeException {
    private final boolean malformed;

    private PickleException(String message, boolean malformed) {
        super(message);
        this.malformed = malformed;
    }

    /** The program is not a well-formed pickle, or not one that {@code torch.save} would write. */
    static PickleException malformed(String detail) {
        return new PickleException(detail, true);
    }

    /** The program is well formed but asks for something the allow-list refuses; the message is final. */
    static PickleException refused(String message) {
        return new PickleException(message, false);
    }

    boolean isMalformed() {
        return malformed;
    }
}
