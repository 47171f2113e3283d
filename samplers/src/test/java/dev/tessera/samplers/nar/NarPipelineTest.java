package dev.tessera.samplers.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.SafetensorsCheckpoint;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.TokenSettings;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** NAR through the pipeline: golden greedy tokens and images, and the official code's sampled tokens. */
class NarPipelineTest {
    static final Path GPT = Golden.testdata().resolve("nar-small/gpt.pth");
    static final Path VQ = Golden.testdata().resolve("llamagen-small/vq.pth");

    @Test
    void greedyTokensAndDecodedImagesMatch() {
        greedy(Ops.cpu());
    }

    /** The same through a backend that keeps results off the host until asked (a missing sync call fails it). */
    @Test
    void greedyThroughDeferredHostCopies() {
        greedy(new DeferredHostOps());
    }

    private static void greedy(Ops ops) {
        try (Golden g = Golden.vendored("nar-small");
                NarPipeline p = NarPipeline.builder()
                        .ops(ops)
                        .model(GPT)
                        .vq(VQ)
                        .heads(4)
                        .load()) {
            Generation<TokenDetails> gen = p.generate(
                    new int[] {4, 8},
                    0,
                    TokenSettings.builder().cfg(2.0).topK(1).build());
            TokenDetails r = gen.details();
            int[] want = g.ints("greedy.tokens");
            float[] decoded = g.floats("vq.decoded"), image = new float[decoded.length];
            for (int b = 0; b < 2; b++) {
                assertArrayEquals(
                        Arrays.copyOfRange(want, b * 256, (b + 1) * 256),
                        r.tokens().get(b),
                        "image " + b);
                System.arraycopy(gen.images().get(b).pixels(), 0, image, b * 3 * 65536, 3 * 65536);
            }
            for (int i = 0; i < decoded.length; i++) decoded[i] = (decoded[i] + 1f) * 0.5f;
            double err = Golden.assertClose(decoded, image, Golden.TOL / 2, "NAR decoded images");
            System.out.printf(
                    "NAR pipeline: greedy tokens identical, image error %.3g, %d forward passes%n",
                    err, r.stats().getFirst().targetForwards());
            assertEquals(31, r.stats().getFirst().targetForwards());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void sampledTokensMatchTheOfficialCodeOnCpu() {
        try (NarPipeline p = NarPipeline.builder().model(GPT).vq(VQ).heads(4).load();
                Checkpoint golden = Checkpoints.open(Golden.testdata().resolve("nar-sampled/golden.safetensors"))) {
            List<Object> cases = (List<Object>)
                    Json.parse(((SafetensorsCheckpoint) golden).metadata().get("cases"));
            for (int c = 0; c < cases.size(); c++) {
                Map<String, Object> s = (Map<String, Object>) cases.get(c);
                TokenSettings req = TokenSettings.builder()
                        .cfg(((Number) s.get("cfg")).doubleValue())
                        .cfgInterval(((Number) s.get("cfg_interval")).intValue())
                        .temperature(((Number) s.get("temperature")).doubleValue())
                        .topK(((Number) s.get("top_k")).intValue())
                        .topP(((Number) s.get("top_p")).doubleValue())
                        .build();
                TokenDetails r = p.generate(new int[] {4, 8}, ((Number) s.get("seed")).longValue(), req)
                        .details();
                int[] want = golden.tensor("case" + c + ".tokens").toIntArray();
                for (int b = 0; b < 2; b++) {
                    assertArrayEquals(
                            Arrays.copyOfRange(want, b * 256, (b + 1) * 256),
                            r.tokens().get(b),
                            "case " + c + " " + s + ", image " + b);
                }
            }
        }
    }
}
