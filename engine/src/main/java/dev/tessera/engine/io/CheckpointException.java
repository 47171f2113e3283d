package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import java.nio.file.Path;

/** A checkpoint that cannot be read or does not hold what a model needs. The message names the file (and key). */
public class CheckpointException extends TesseraException {
    public CheckpointException(Path file, String what) {
        super(file + ": " + what);
    }

    public CheckpointException(Path file, String what, Throwable cause) {
        super(file + ": " + what, cause);
    }
}
