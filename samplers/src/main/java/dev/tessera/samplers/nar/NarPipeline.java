package dev.tessera.samplers.nar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.TokenPipelineBuilder;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenImages;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import dev.tessera.tokenizers.llamagen.VqModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Class-conditional generation with NAR (next-neighbour decoding: a 16×16 grid in 31 forward passes instead of
 * 256) from the official checkpoints and LlamaGen's VQ-16 tokenizer. All images of a request form one batch, as in
 * the official {@code generate}: each step samples its positions in row order, every image at each position.
 * Thread-safe.
 */
public final class NarPipeline implements AutoCloseable {
    private final OpenCheckpoints files;
    private final NarModel model;
    private final VqModel vq;

    private NarPipeline(OpenCheckpoints files, NarModel model, VqModel vq) {
        this.files = files;
        this.model = model;
        this.vq = vq;
    }

    public static Builder builder() {
        return new Builder();
    }

    public LlamaGenConfig config() {
        return model.config();
    }

    public NarModel model() {
        return model;
    }

    public TokenImages generate(NarRequest req) {
        return generate(req, Progress.NONE);
    }

    public TokenImages generate(NarRequest req, Progress progress) {
        long t0 = System.nanoTime();
        LlamaGenConfig c = model.config();
        int[] classes = req.classes();
        int B = classes.length, N = c.tokens(), V = c.vocab();
        c.checkClasses(classes);
        boolean guided = req.cfg() > 1.0;
        int[] labels = new int[guided ? 2 * B : B];
        for (int b = 0; b < B; b++) {
            labels[b] = classes[b];
            if (guided) labels[B + b] = c.numClasses();
        }
        TorchGenerator rng = new TorchGenerator(req.seed());
        TokenDistribution dist = req.distribution();
        float cfg = (float) req.cfg();
        NarModel.State s = model.start(labels);
        float[] logits = model.prefill(s);
        int[] out = new int[B * N];
        int generated = 0, steps = model.steps();
        for (int k = 0; k < steps; k++) {
            int[] pos = model.diagonal(k);
            int n = pos.length;
            // official: guidance is on while no more than cfg_interval tokens were generated before this step
            boolean apply = guided && (req.cfgInterval() < 0 || generated <= req.cfgInterval());
            int[][] feed = new int[labels.length][n];
            float[][] probs = probabilities(logits, n, B, V, apply, cfg, dist);
            for (int j = 0; j < n; j++) {      // draws in the official order: positions in row order, images within
                for (int b = 0; b < B; b++) {
                    float[] p = probs[j * B + b];
                    int tok = dist.greedy() ? TokenDistribution.argmax(p) : TorchMultinomial.withoutReplacement(p, 0, V, rng);
                    out[b * N + pos[j]] = tok;
                    feed[b][j] = tok;
                    if (guided) feed[B + b][j] = tok;
                }
            }
            generated += n;
            progress.update("step", k + 1, steps);
            if (k + 1 < steps) logits = model.step(s, feed);
        }
        int passes = s.step();
        model.finish(s);
        SamplerStats stats = new SamplerStats("nar", B, B * N, passes, 0, 0, 0, (System.nanoTime() - t0) * 1e-9);

        long t1 = System.nanoTime();
        int side = c.grid(), px = side * vq.downsampling();
        List<int[]> tokens = new ArrayList<>();
        List<GeneratedImage> images = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            int[] t = java.util.Arrays.copyOfRange(out, b * N, (b + 1) * N);
            tokens.add(t);
            float[] img = vq.decode(t, 1, side);
            for (int i = 0; i < img.length; i++) img[i] = (img[i] + 1f) * 0.5f;
            images.add(new GeneratedImage(classes[b], img, px, px));
            progress.update("decode", b + 1, B);
        }
        return new TokenImages(List.copyOf(images), List.copyOf(tokens), List.of(stats), (System.nanoTime() - t1) * 1e-9);
    }

    /**
     * The processed distributions of one step, {@code [j·B + b][V]} (position j of image b), guided when
     * {@code apply}, computed across threads (the draws that follow stay in order).
     */
    private static float[][] probabilities(float[] logits, int n, int B, int V, boolean apply, float cfg,
                                           TokenDistribution dist) {
        float[][] probs = new float[n * B][];
        Parallel.forRange(n * B, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int j = i / B, b = i % B;
                probs[i] = dist.probabilitiesInPlace(TokenDistribution.guided(logits, (b * n + j) * V, ((B + b) * n + j) * V, apply, cfg, V));
            }
        });
        return probs;
    }

    @Override
    public void close() {
        files.close();
    }

    /** {@link #model} and {@link #vq} are required. */
    public static final class Builder extends TokenPipelineBuilder<Builder> {
        private int extraLayers = 1;

        /** Blocks of the "below" head ({@code medusa_attention_num}, 1 in every release). */
        public Builder extraLayers(int n) {
            this.extraLayers = n;
            return this;
        }

        public NarPipeline load() {
            requireFiles("NAR");
            return OpenCheckpoints.load(files -> {
                Checkpoint v = files.open(vq);
                VqModel tokenizer = VqModel.load(v, true, ops);
                int grid = tokenizer.tokenGrid(imageSize);
                Checkpoint m = files.open(model);
                NarModel nar = NarModel.load(m, heads, grid, extraLayers, ops);
                tokenizer.requireVocabulary(nar.config().vocab());
                return new NarPipeline(files, nar, tokenizer);
            });
        }
    }
}
