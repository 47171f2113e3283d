package dev.tessera.examples.cli;

/** A command line that cannot be run as written: printed as one line with a pointer to {@code --help}; exit 2. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
