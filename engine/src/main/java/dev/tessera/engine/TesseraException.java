package dev.tessera.engine;

/**
 * The one exception type users see: its message is a single line that says what went wrong and what to do,
 * naming the file, the key or the argument involved. Command-line front ends print {@link #getMessage()} and
 * exit non-zero; they never print a stack trace for it.
 */
public class TesseraException extends RuntimeException {
    public TesseraException(String message) {
        super(message);
    }

    public TesseraException(String message, Throwable cause) {
        super(message, cause);
    }
}
