package dev.tessera.examples.fid;

import dev.tessera.samplers.GeneratedImage;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A loaded model family with its sampler settings, as the evaluation harness drives it: one call generates the
 * images of a batch of class labels from one seed. Results must depend only on (weights, settings, classes,
 * seed), so that an interrupted evaluation regenerates exactly the images it lost.
 */
public interface SampleGenerator extends AutoCloseable {
    /** How many classes the model knows. */
    int numClasses();

    /** One image per class label, in order. */
    List<GeneratedImage> generate(int[] classes, long seed);

    /** The model's configuration, for the report. */
    String describe();

    @Override
    void close();

    /**
     * The sampling settings every family shares (the token models also use the temperature), and a family's own
     * options by name ({@code num_iter}, {@code draft}, ... for MAR; empty for the others).
     */
    record Sampling(double cfg, int topK, double topP, double temperature, Map<String, String> options) {
        public Sampling {
            options = Collections.unmodifiableMap(new TreeMap<>(options));
        }

        public Sampling(double cfg, int topK, double topP, double temperature) {
            this(cfg, topK, topP, temperature, Map.of());
        }

        /** These settings with the family options {@code o}. */
        public Sampling withOptions(Map<String, String> o) {
            return new Sampling(cfg, topK, topP, temperature, o);
        }

        public Map<String, Object> toMap(boolean withTemperature) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cfg", cfg);
            m.put("top_k", topK);
            m.put("top_p", topP);
            if (withTemperature) m.put("temperature", temperature);
            m.putAll(options); // absent when empty, as before they existed
            return m;
        }
    }
}
