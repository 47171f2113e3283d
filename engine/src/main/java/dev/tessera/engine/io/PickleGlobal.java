package dev.tessera.engine.io;

import dev.tessera.engine.tensor.DType;

/**
 * A class or function named by a pickle's GLOBAL opcode that the allow-list accepted. It is only a token: what
 * "calling" it produces is decided on the Java side by {@link #kind()} (see {@link PickleGlobals}).
 *
 * @param storageType the element type, for the {@link PickleGlobals.Kind#STORAGE} kind only (otherwise null)
 */
record PickleGlobal(String module, String name, PickleGlobals.Kind kind, DType storageType) {

    String qualifiedName() {
        return module + "." + name;
    }

    @Override
    public String toString() {
        return qualifiedName();
    }
}
