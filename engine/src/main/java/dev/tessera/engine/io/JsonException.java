package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;

/** Text that is not valid JSON, or a value that {@link Json} cannot write. The message says where and why. */
public class JsonException extends TesseraException {
    public JsonException(String message) {
        super(message);
    }

    public JsonException(String message, Throwable cause) {
        super(message, cause);
    }
}
