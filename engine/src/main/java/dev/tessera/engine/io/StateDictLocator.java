package dev.tessera.engine.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the state dict inside an unpickled {@code .pth} object. Released weights are usually a flat dict of
 * tensors; training checkpoints wrap it ({@code {"model": ..., "optimizer": ..., "args": ...}}); DDP saves prefix
 * every key with {@code module.}.
 */
final class StateDictLocator {
    /** Keys under which training scripts store the weights, tried in this order. */
    static final List<String> WRAPPER_KEYS = List.of("model", "state_dict", "module", "ema", "model_ema");

    private static final String DDP_PREFIX = "module.";
    /** Nesting limit for flattening; real checkpoints nest a handful of levels. */
    private static final int MAX_DEPTH = 64;

    private StateDictLocator() {}

    /**
     * The tensors of the state dict, keyed and ordered as in the file:
     * <ol>
     * <li>a top-level dict whose values are all tensors is the state dict;</li>
     * <li>otherwise the first of {@link #WRAPPER_KEYS} whose value is a dict holding tensors;</li>
     * <li>otherwise every tensor in nested dicts, keyed by the dotted path ({@code "a.b.c"}).</li>
     * </ol>
     * Finally, when every key starts with {@code module.} (a DistributedDataParallel save) that prefix is dropped.
     */
    static Map<String, TensorRef> locate(Path file, Object root) {
        return locate(file, root, null);
    }

    /** As {@link #locate(Path, Object)}, trying the wrapper key {@code preferred} (when not null) first. */
    static Map<String, TensorRef> locate(Path file, Object root, String preferred) {
        if (!(root instanceof Map<?, ?> top)) {
            throw new CheckpointException(
                    file,
                    "the checkpoint holds " + PickleGlobals.describe(root) + ", not a dict of tensors (a state dict)");
        }
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        if (!top.isEmpty() && top.values().stream().allMatch(v -> v instanceof TensorRef)) {
            flatten(file, top, "", tensors, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
        } else {
            Map<?, ?> chosen = top;
            List<String> keys = WRAPPER_KEYS;
            if (preferred != null) {
                keys = new ArrayList<>(WRAPPER_KEYS);
                keys.remove(preferred);
                keys.addFirst(preferred);
            }
            for (String key : keys) {
                if (top.get(key) instanceof Map<?, ?> inner && holdsTensor(inner, 0)) {
                    chosen = inner;
                    break;
                }
            }
            flatten(file, chosen, "", tensors, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
        }
        return stripDdpPrefix(tensors);
    }

    private static boolean holdsTensor(Map<?, ?> map, int depth) {
        if (depth > MAX_DEPTH) return false;
        for (Object v : map.values()) {
            if (v instanceof TensorRef) return true;
            if (v instanceof Map<?, ?> inner && inner != map && holdsTensor(inner, depth + 1)) return true;
        }
        return false;
    }

    private static void flatten(
            Path file, Map<?, ?> map, String prefix, Map<String, TensorRef> out, Set<Object> visiting, int depth) {
        // A pickle can make a dict contain itself; the visiting set and depth cap keep the walk finite.
        if (depth > MAX_DEPTH || !visiting.add(map)) return;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + keyText(e.getKey());
            if (e.getValue() instanceof TensorRef t) {
                if (out.putIfAbsent(key, t) != null) {
                    throw new CheckpointException(
                            file, "two tensors in the checkpoint have the key '" + Untrusted.text(key) + "'");
                }
            } else if (e.getValue() instanceof Map<?, ?> inner) {
                flatten(file, inner, key + ".", out, visiting, depth + 1);
            }
        }
        visiting.remove(map);
    }

    private static String keyText(Object key) {
        return key instanceof String s ? s : String.valueOf(key);
    }

    private static Map<String, TensorRef> stripDdpPrefix(Map<String, TensorRef> tensors) {
        if (tensors.isEmpty() || !tensors.keySet().stream().allMatch(k -> k.startsWith(DDP_PREFIX))) return tensors;
        Map<String, TensorRef> stripped = new LinkedHashMap<>();
        tensors.forEach((k, v) -> stripped.put(k.substring(DDP_PREFIX.length()), v));
        return stripped;
    }
}
