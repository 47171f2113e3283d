package dev.tessera.examples.fid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.nar.NarPipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The bundled LlamaGen target and the bundled NAR (examples/models/fmnist/lg-target, lg-nar + lg-vq, loaded as
 * official checkpoints are) draw what the bundled judge recognises: 3 images per class at fixed seeds, at the cards'
 * settings (LlamaGen plain AR; NAR's next-neighbour decoding).
 */
class FashionMnistLlamaGenZooTest {
    static final Path BUNDLE = Path.of(System.getProperty("tessera.home", "../.."))
            .resolve("examples/models/fmnist")
            .toAbsolutePath();

    @Test
    void theBundledLlamaGenDrawsRecognisableClasses() {
        try (LlamaGenPipeline lg = LlamaGenPipeline.builder()
                .model(BUNDLE.resolve(BundledModels.LLAMAGEN_MODEL))
                .vq(BUNDLE.resolve(BundledModels.LLAMAGEN_VQ))
                .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                .load()) {
            assertRecognisable(
                    "LlamaGen",
                    c -> lg.generate(new int[] {c, c, c}, 2000 + c, BundledModels.LLAMAGEN_SAMPLING, Progress.NONE)
                            .images());
        }
    }

    @Test
    void theBundledNarDrawsRecognisableClasses() {
        try (NarPipeline nar = NarPipeline.builder()
                .model(BUNDLE.resolve(BundledModels.NAR_MODEL))
                .vq(BUNDLE.resolve(BundledModels.LLAMAGEN_VQ))
                .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                .load()) {
            assertEquals(15, nar.config().grid() * 2 - 1, "the 8x8 grid: 15 passes");
            assertRecognisable(
                    "NAR",
                    c -> nar.generate(
                                    new int[] {c, c, c},
                                    2000 + c,
                                    BundledModels.LLAMAGEN_SAMPLING.tokens(),
                                    Progress.NONE)
                            .images());
        }
    }

    /** 3 images per class from {@code draw}; at least 23 of the 30 judged as the class asked for. */
    static void assertRecognisable(String what, IntFunction<List<GeneratedImage>> draw) {
        int ok = 0, n = 0;
        List<String> wrong = new ArrayList<>();
        try (JudgeCnn judge = JudgeCnn.load(BUNDLE.resolve("judge.safetensors"), Ops.cpu())) {
            for (int c = 0; c < 10; c++) {
                List<GeneratedImage> images = draw.apply(c);
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
                "judge accuracy of 3 " + what + " samples per class: " + ok + "/30 (requested->judged: " + wrong + ")");
    }
}
