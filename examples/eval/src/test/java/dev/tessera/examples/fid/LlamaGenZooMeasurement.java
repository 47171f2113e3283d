package dev.tessera.examples.fid;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The numbers in the LlamaGen cards (not a CI test; runs only with {@code -Dtessera.measure=true}): judge accuracy of
 * the bundled target's samples per cfg, target and draft seconds per image (batch 1, this machine), and speculative
 * sampling / LANTERN on the bundled pair: acceptance, target and draft forwards per image. Sizes:
 * {@code -Dtessera.measure.perClass} (default 20) for the accuracy, {@code .images} (default 20) for the samplers.
 * Writes {@code -Dtessera.measure.out} (default target/llamagen-measure.json).
 */
@EnabledIfSystemProperty(named = "tessera.measure", matches = "true")
class LlamaGenZooMeasurement {
    static final Path BUNDLE = FashionMnistLlamaGenZooTest.BUNDLE;

    @Test
    void measure() {
        int perClass = Integer.getInteger("tessera.measure.perClass", 20),
                images = Integer.getInteger("tessera.measure.images", 20);
        String cfgs = System.getProperty("tessera.measure.cfg", String.valueOf(BundledModels.LLAMAGEN_CFG));
        Map<String, Object> out = new LinkedHashMap<>();
        try (JudgeCnn judge = JudgeCnn.load(BUNDLE.resolve("judge.safetensors"), Ops.cpu());
                LlamaGenPipeline lg = LlamaGenPipeline.builder()
                        .model(BUNDLE.resolve(BundledModels.LLAMAGEN_MODEL))
                        .vq(BUNDLE.resolve(BundledModels.LLAMAGEN_VQ))
                        .draft(BUNDLE.resolve(BundledModels.LLAMAGEN_DRAFT))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .load();
                LlamaGenPipeline draftAlone = LlamaGenPipeline.builder()
                        .model(BUNDLE.resolve(BundledModels.LLAMAGEN_DRAFT))
                        .vq(BUNDLE.resolve(BundledModels.LLAMAGEN_VQ))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .load()) {
            Map<String, Object> acc = new LinkedHashMap<>();
            for (String c : cfgs.split(",")) {
                double cfg = Double.parseDouble(c);
                LlamaGenSettings s = LlamaGenSettings.builder().cfg(cfg).build();
                acc.put(
                        c,
                        Map.of(
                                "target",
                                accuracy(lg, judge, s, perClass),
                                "draft",
                                accuracy(draftAlone, judge, s, perClass)));
            }
            out.put("judge_accuracy_plain_ar", Map.of("per_class", perClass, "seeds", "3000 + class", "by_cfg", acc));
            LlamaGenSettings base =
                    LlamaGenSettings.builder().cfg(BundledModels.LLAMAGEN_CFG).build();
            out.put("seconds_per_image_batch1_target", secondsPerImage(lg, base, images));
            out.put("seconds_per_image_batch1_draft", secondsPerImage(draftAlone, base, images));
            for (Sampler sm : List.of(Sampler.SPECULATIVE, Sampler.LANTERN)) {
                LlamaGenSettings s = LlamaGenSettings.builder()
                        .cfg(BundledModels.LLAMAGEN_CFG)
                        .sampler(sm)
                        .gamma(4)
                        .build();
                out.put(
                        sm.id() + (sm == Sampler.LANTERN ? "_delta" + s.lanternDelta() + "_k" + s.lanternK() : "")
                                + "_gamma4",
                        sampler(lg, judge, s, images));
            }
        }
        String text = Json.write(out);
        System.out.println(text);
        Path file = Path.of(System.getProperty("tessera.measure.out", "target/llamagen-measure.json"));
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double accuracy(LlamaGenPipeline p, JudgeCnn judge, LlamaGenSettings s, int perClass) {
        int ok = 0;
        for (int c = 0; c < 10; c++) {
            int[] cls = new int[perClass];
            Arrays.fill(cls, c);
            for (GeneratedImage g : p.generate(cls, 3000 + c, s, Progress.NONE).images()) {
                if (judge.judge(JudgeMetrics.judgeInput(g)).label() == c) ok++;
            }
        }
        return (double) ok / (10 * perClass);
    }

    /** Plain AR, one image per call (batch 1): token seconds plus decode seconds, per image. */
    static double secondsPerImage(LlamaGenPipeline p, LlamaGenSettings s, int images) {
        p.generate(new int[] {0}, 0, s, Progress.NONE); // warm-up
        double sec = 0;
        for (int i = 0; i < images; i++) {
            TokenDetails d =
                    p.generate(new int[] {i % 10}, 100 + i, s, Progress.NONE).details();
            sec += d.stats().stream().mapToDouble(SamplerStats::seconds).sum() + d.decodeSeconds();
        }
        return sec / images;
    }

    static Map<String, Object> sampler(LlamaGenPipeline p, JudgeCnn judge, LlamaGenSettings s, int images) {
        int tf = 0, df = 0, proposed = 0, accepted = 0, ok = 0;
        double sec = 0;
        p.generate(new int[] {0}, 0, s, Progress.NONE); // warm-up
        for (int i = 0; i < images; i++) {
            int c = i % 10;
            Generation<TokenDetails> g = p.generate(new int[] {c}, 100 + i, s, Progress.NONE);
            for (SamplerStats st : g.details().stats()) {
                tf += st.targetForwards();
                df += st.draftForwards();
                proposed += st.proposed();
                accepted += st.accepted();
                sec += st.seconds();
            }
            sec += g.details().decodeSeconds();
            if (judge.judge(JudgeMetrics.judgeInput(g.images().get(0))).label() == c) ok++;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", images);
        m.put("target_forwards_per_image", (double) tf / images);
        m.put("draft_forwards_per_image", (double) df / images);
        m.put("acceptance_rate", proposed == 0 ? 0 : (double) accepted / proposed);
        m.put("seconds_per_image", sec / images);
        m.put("judge_accuracy", (double) ok / images);
        return m;
    }
}
