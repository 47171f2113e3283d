package dev.tessera.examples.fid;

import dev.tessera.samplers.GeneratedImage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /** The sampling settings every family shares; the token models also use the temperature. */
    record Sampling(double cfg, int topK, double topP, double temperature) {
        public Map<String, Object> toMap(boolean withTemperature) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cfg", cfg);
            m.put("top_k", topK);
            m.put("top_p", topP);
            if (withTemperature) m.put("temperature", temperature);
            return m;
        }
    }
}
