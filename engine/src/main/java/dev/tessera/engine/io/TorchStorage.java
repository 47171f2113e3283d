package dev.tessera.engine.io;

import dev.tessera.engine.tensor.DType;
import java.util.List;

/**
 * A storage referenced by a persistent id in a {@code .pth} pickle: its bytes are the zip entry
 * {@code <top>/data/<key>}, holding {@code numel} elements of {@code dtype}. The device location is irrelevant here.
 */
record TorchStorage(String key, DType dtype, long numel) {

    /** Decodes a persistent id {@code ('storage', <StorageClass>, '<key>', '<location>', numel)}. */
    static TorchStorage fromPersistentId(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw PickleException.malformed("a persistent id is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof PickleGlobal g) || g.kind() != PickleGlobals.Kind.STORAGE) {
            throw PickleException.malformed("a persistent id names " + t.get(1) + " instead of a storage class");
        }
        Object key = t.get(2);
        if (!(key instanceof String) && !(key instanceof Long)) {
            throw PickleException.malformed("a storage key is not a string");
        }
        if (!(t.get(4) instanceof Long numel) || numel < 0) {
            throw PickleException.malformed(
                    "storage '" + Untrusted.text(key.toString()) + "' has an invalid element count");
        }
        return new TorchStorage(key.toString(), g.storageType(), numel);
    }
}
