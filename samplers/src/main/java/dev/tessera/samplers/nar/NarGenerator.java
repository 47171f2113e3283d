package dev.tessera.samplers.nar;

import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.samplers.Decoding;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Guidance;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import dev.tessera.tokenizers.llamagen.VqModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * NAR's next-neighbour decoding (a 16×16 grid in 31 forward passes instead of 256) and the VQ decode. All images of
 * a call form one batch, as in the official {@code generate}: each step samples its positions in row order, every
 * image at each position. Guidance is on while no more than {@code cfgInterval} tokens were generated before the
 * step (−1: always). Thread-safe: every call has its own state.
 */
public final class NarGenerator {
    private final NarModel model;
    private final VqModel vq;

    public NarGenerator(NarModel model, VqModel vq) {
        vq.requireVocabulary(model.config().vocab());
        this.model = model;
        this.vq = vq;
    }

    public NarModel model() {
        return model;
    }

    public VqModel vq() {
        return vq;
    }

    /** One image per class; {@code progress} sees every step ("step") and every decoded image ("decode"). */
    public Generation<TokenDetails> generate(int[] classes, long seed, TokenSettings s, Progress progress) {
        long t0 = System.nanoTime();
        LlamaGenConfig c = model.config();
        int B = classes.length, N = c.tokens(), V = c.vocab();
        if (B == 0) throw new IllegalArgumentException("at least one class is needed");
        c.checkClasses(classes);
        boolean guided = s.cfg() > 1.0;
        int[] labels = Guidance.labels(classes, c.numClasses(), guided);
        TorchGenerator rng = new TorchGenerator(seed);
        TokenDistribution dist = s.distribution();
        float cfg = (float) s.cfg();
        NarModel.State st = model.start(labels);
        float[] logits = model.prefill(st);
        int[] out = new int[B * N];
        int generated = 0, steps = model.steps();
        for (int k = 0; k < steps; k++) {
            int[] pos = model.diagonal(k);
            int n = pos.length;
            // official: guidance is on while no more than cfg_interval tokens were generated before this step
            boolean apply = guided && (s.cfgInterval() < 0 || generated <= s.cfgInterval());
            int[][] feed = new int[labels.length][n];
            float[][] probs = probabilities(logits, n, B, V, apply, cfg, dist);
            for (int j = 0; j < n; j++) { // draws in the official order: positions in row order, images within
                for (int b = 0; b < B; b++) {
                    float[] p = probs[j * B + b];
                    int tok = dist.greedy()
                            ? TokenDistribution.argmax(p)
                            : TorchMultinomial.withoutReplacement(p, 0, V, rng);
                    out[b * N + pos[j]] = tok;
                    feed[b][j] = tok;
                    if (guided) feed[B + b][j] = tok;
                }
            }
            generated += n;
            progress.update("step", k + 1, steps);
            if (k + 1 < steps) logits = model.step(st, feed);
        }
        int passes = st.step();
        model.finish(st);
        SamplerStats stats = new SamplerStats("nar", B, B * N, passes, 0, 0, 0, (System.nanoTime() - t0) * 1e-9);

        long t1 = System.nanoTime();
        int side = c.grid();
        List<int[]> tokens = new ArrayList<>();
        for (int b = 0; b < B; b++) tokens.add(Arrays.copyOfRange(out, b * N, (b + 1) * N));
        List<GeneratedImage> images = Decoding.images(
                classes,
                side * vq.downsampling(),
                b -> vq.decode(tokens.get(b), 1, side),
                Decoding.Pixels.UNIT,
                progress);
        return new Generation<>(images, new TokenDetails(tokens, List.of(stats), (System.nanoTime() - t1) * 1e-9));
    }

    /**
     * The processed distributions of one step, {@code [j·B + b][V]} (position j of image b), guided when
     * {@code apply}, computed across threads (the draws that follow stay in order).
     */
    private static float[][] probabilities(
            float[] logits, int n, int B, int V, boolean apply, float cfg, TokenDistribution dist) {
        float[][] probs = new float[n * B][];
        Parallel.forRange(n * B, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int j = i / B, b = i % B;
                probs[i] = dist.probabilitiesInPlace(
                        TokenDistribution.guided(logits, (b * n + j) * V, ((B + b) * n + j) * V, apply, cfg, V));
            }
        });
        return probs;
    }
}
