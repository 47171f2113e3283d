package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code eval.json}, the settings an evaluation folder was started with. A run into an existing folder must have
 * the same generation and feature settings (the reference may change: metrics are recomputed at the end); a
 * non-empty folder without it is refused rather than filled.
 */
public final class EvalManifest {
    public static final String FILE = "eval.json";

    private EvalManifest() {}

    /** True when {@code dir} holds a run with these settings, false when there is nothing yet; else an error. */
    public static boolean check(Path dir, EvalPlan plan) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(dir)) return false;
        if (!Files.isDirectory(dir))
            throw new TesseraException(dir + ": exists and is not a folder; give --out a folder");
        if (!Files.exists(file)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new TesseraException(dir + ": not empty and not an evaluation folder (no " + FILE
                            + "); give --out a new or empty folder");
                }
            } catch (IOException e) {
                throw new TesseraException(dir + ": cannot list (" + e.getMessage() + ")", e);
            }
            return false;
        }
        Object parsed;
        try {
            parsed = Json.read(file);
        } catch (RuntimeException e) {
            throw new TesseraException(
                    file + ": unreadable (" + e.getMessage() + "); remove the folder to start over", e);
        }
        if (!(parsed instanceof Map<?, ?> saved)) throw new TesseraException(file + ": not an evaluation manifest");
        List<String> diffs = new ArrayList<>();
        compare("", plan.generationSettings(), saved.get("generation"), diffs);
        compare("", plan.featureSettings(), saved.get("features"), diffs);
        if (!diffs.isEmpty()) {
            throw new TesseraException(dir + " holds an evaluation with other settings (" + String.join("; ", diffs)
                    + "): use another --out, or remove the folder to start over");
        }
        return true;
    }

    private static void compare(String prefix, Map<String, Object> want, Object saved, List<String> diffs) {
        Map<?, ?> have = saved instanceof Map<?, ?> m ? m : Map.of();
        for (Map.Entry<String, Object> e : want.entrySet()) {
            Object h = have.get(e.getKey());
            if (e.getValue() instanceof Map<?, ?> sub && h instanceof Map<?, ?>) {
                @SuppressWarnings("unchecked")
                Map<String, Object> s = (Map<String, Object>) sub;
                compare(prefix + e.getKey() + ".", s, h, diffs);
            } else if (h == null || !Json.write(e.getValue()).equals(Json.write(h))) {
                diffs.add(prefix + e.getKey() + " " + Json.write(e.getValue()) + " here, "
                        + (h == null ? "absent" : Json.write(h)) + " there");
            }
        }
        for (Map.Entry<?, ?> e : have.entrySet()) { // a setting only the folder has (e.g. bf16 weights)
            if (!want.containsKey(String.valueOf(e.getKey()))) {
                diffs.add(prefix + e.getKey() + " absent here, " + Json.write(e.getValue()) + " there");
            }
        }
    }

    public static void write(Path dir, EvalPlan plan) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tessera_eval", 1);
        m.put("generation", plan.generationSettings());
        m.put("features", plan.featureSettings());
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new TesseraException(dir + ": cannot create (" + e.getMessage() + ")", e);
        }
        Json.write(dir.resolve(FILE), m);
    }
}
