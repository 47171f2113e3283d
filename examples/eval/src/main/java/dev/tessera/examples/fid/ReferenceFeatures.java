package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.samplers.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The features of a reference batch's images ({@code arr_0}), cached in the evaluation folder ({@code reference/})
 * and computed resumably like the samples' (10,000 ImageNet images take a while). The cache records the reference
 * file, the network and the preprocessing; another reference starts it over.
 */
final class ReferenceFeatures {
    private ReferenceFeatures() {}

    static FeatureStore open(Path dir, ReferenceSet ref, EvalPlan plan) {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("reference", EvalPlan.file(ref.path(), plan.source(ref.path())));
        source.putAll(plan.featureSettings());
        Path marker = dir.resolve("source.json");
        String want = Json.write(source);
        boolean same = false;
        if (Files.exists(marker)) {
            try {
                same = Json.write(Json.read(marker)).equals(want);
            } catch (RuntimeException e) {
                same = false;
            }
        }
        if (!same) {
            clear(dir);
            Json.write(writable(dir).resolve("source.json"), source);
        }
        return FeatureStore.open(dir);
    }

    /** Extracts the features of the reference images not in the store yet. */
    static void complete(FeatureStore store, ReferenceSet ref, FeatureExtractor extractor, Progress progress) {
        try (ImageSource images = ref.images()) {
            if (store.count() < images.count()) {
                extractor.run(
                        images,
                        store.count(),
                        store::append,
                        (stage, done, total) -> progress.update("reference images", done, total));
            }
        }
    }

    private static Path writable(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new TesseraException(dir + ": cannot create (" + e.getMessage() + ")", e);
        }
    }

    private static void clear(Path dir) {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new TesseraException(dir + ": cannot clear (" + e.getMessage() + ")", e);
        }
    }
}
