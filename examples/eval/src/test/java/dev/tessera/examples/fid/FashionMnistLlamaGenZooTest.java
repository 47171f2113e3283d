package dev.tessera.examples.fid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bundled LlamaGen target (examples/models/fmnist/lg-target + lg-vq, loaded as official checkpoints are) draws
 * what the bundled judge recognises: 3 images per class at fixed seeds, plain AR at the card's settings.
 */
class FashionMnistLlamaGenZooTest {
    static final Path BUNDLE = Path.of(System.getProperty("tessera.home", "../.."))
            .resolve("examples/models/fmnist")
            .toAbsolutePath();

    @Test
    void theBundledLlamaGenDrawsRecognisableClasses() {
        int ok = 0, n = 0;
        List<String> wrong = new ArrayList<>();
        try (JudgeCnn judge = JudgeCnn.load(BUNDLE.resolve("judge.safetensors"), Ops.cpu());
                LlamaGenPipeline lg = LlamaGenPipeline.builder()
                        .model(BUNDLE.resolve(BundledModels.LLAMAGEN_MODEL))
                        .vq(BUNDLE.resolve(BundledModels.LLAMAGEN_VQ))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .load()) {
            assertEquals(10, lg.numClasses());
            for (int c = 0; c < 10; c++) {
                List<GeneratedImage> images = lg.generate(
                                new int[] {c, c, c}, 2000 + c, BundledModels.LLAMAGEN_SAMPLING, Progress.NONE)
                        .images();
                for (GeneratedImage g : images) {
                    int label = judge.judge(JudgeMetrics.judgeInput(g)).label();
                    n++;
                    if (label == c) ok++;
                    else wrong.add(c + "->" + label);
                }
            }
        }
        assertEquals(30, n);
        assertTrue(
                ok >= 23,
                "judge accuracy of 3 LlamaGen samples per class: " + ok + "/30 (requested->judged: " + wrong + ")");
    }
}
