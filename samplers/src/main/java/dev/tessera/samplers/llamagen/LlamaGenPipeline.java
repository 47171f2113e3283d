package dev.tessera.samplers.llamagen;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.TokenPipelineBuilder;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenImages;
import dev.tessera.samplers.ar.AutoregressiveSampler;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.LanternVerifier;
import dev.tessera.samplers.ar.LatentNeighbours;
import dev.tessera.samplers.ar.Sampled;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.SpeculativeSampler;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.Verifier;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import dev.tessera.tokenizers.llamagen.VqModel;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Class-conditional image generation with LlamaGen (and the samplers built on it) from the official checkpoints:
 * <pre>{@code
 * try (LlamaGenPipeline p = LlamaGenPipeline.builder().model(Path.of("c2i_L_256.pt")).vq(Path.of("vq_ds16_c2i.pt")).load()) {
 *     TokenImages r = p.generate(LlamaGenRequest.builder().classes(207).seed(0).sampler(Sampler.SJD).build());
 * }
 * }</pre>
 * Thread-safe: weights are shared and read-only, each call has its own state. Plain AR runs the images of a request
 * as one batch (as the official {@code generate}); the accelerated samplers run them one after another.
 */
public final class LlamaGenPipeline implements AutoCloseable {
    private final OpenCheckpoints files;
    private final LlamaGenModel model, draft;
    private final VqModel vq;
    private volatile LatentNeighbours neighbours;

    private LlamaGenPipeline(OpenCheckpoints files, LlamaGenModel model, LlamaGenModel draft, VqModel vq) {
        this.files = files;
        this.model = model;
        this.draft = draft;
        this.vq = vq;
    }

    public static Builder builder() {
        return new Builder();
    }

    public LlamaGenConfig config() {
        return model.config();
    }

    public LlamaGenModel model() {
        return model;
    }

    public VqModel vq() {
        return vq;
    }

    public boolean hasDraft() {
        return draft != null;
    }

    public TokenImages generate(LlamaGenRequest req) {
        return generate(req, Progress.NONE);
    }

    /** Generates one image per class; {@code progress} sees tokens of the current image, then the decoding. */
    public TokenImages generate(LlamaGenRequest req, Progress progress) {
        int[] classes = req.classes();
        model.config().checkClasses(classes);
        if ((req.sampler() == Sampler.SPECULATIVE || req.sampler() == Sampler.LANTERN) && draft == null) {
            throw new TesseraException("the " + req.sampler().id() + " sampler needs a draft model (--draft FILE)");
        }
        TorchGenerator rng = new TorchGenerator(req.seed());
        List<int[]> tokens = new ArrayList<>();
        List<SamplerStats> stats = new ArrayList<>();
        if (req.sampler() == Sampler.AR) {
            Sampled s = batchedAutoregressive(req, rng, progress);
            int n = model.config().tokens();
            for (int b = 0; b < classes.length; b++) tokens.add(java.util.Arrays.copyOfRange(s.tokens(), b * n, (b + 1) * n));
            stats.add(s.stats());
        } else {
            for (int b = 0; b < classes.length; b++) {
                Sampled s = sampleOne(req, classes[b], rng);
                tokens.add(s.tokens());
                stats.add(s.stats());
                progress.update("image", b + 1, classes.length);
            }
        }
        long t0 = System.nanoTime();
        int side = model.config().grid();
        List<GeneratedImage> images = new ArrayList<>();
        for (int b = 0; b < classes.length; b++) {
            float[] img = vq.decode(tokens.get(b), 1, side);
            for (int i = 0; i < img.length; i++) img[i] = (img[i] + 1f) * 0.5f;
            int px = side * vq.downsampling();
            images.add(new GeneratedImage(classes[b], img, px, px));
            progress.update("decode", b + 1, classes.length);
        }
        return new TokenImages(List.copyOf(images), List.copyOf(tokens), List.copyOf(stats), (System.nanoTime() - t0) * 1e-9);
    }

    /** One image with an accelerated sampler (or plain AR through the same interface). */
    public Sampled sampleOne(LlamaGenRequest req, int label, TorchGenerator rng) {
        TokenDistribution dist = req.distribution();
        LlamaGenSequence target = new LlamaGenSequence(model, label, req.cfg(), req.cfgInterval());
        return switch (req.sampler()) {
            case AR -> new AutoregressiveSampler(dist).run(target, rng);
            case SPECULATIVE -> new SpeculativeSampler(req.gamma(), dist, Verifier.EXACT, "speculative")
                    .run(target, new LlamaGenSequence(draft, label, req.cfg(), req.cfgInterval()), rng);
            case LANTERN -> {
                LatentNeighbours nn = neighbours(req.lanternK());
                yield new SpeculativeSampler(req.gamma(), dist, new LanternVerifier(nn, Math.min(req.lanternK(), nn.k()), req.lanternDelta()), "lantern")
                        .run(target, new LlamaGenSequence(draft, label, req.cfg(), req.cfgInterval()), rng);
            }
            case SJD -> new JacobiSampler(req.sjdWindow(), req.sjdInit(), model.config().grid(), dist).run(target, rng);
        };
    }

    /** LANTERN's neighbour table, built on first use from the tokenizer's codebook. */
    private LatentNeighbours neighbours(int k) {
        LatentNeighbours nn = neighbours;
        int want = Math.min(k, vq.codebookSize() - 1);
        if (nn == null || nn.k() < want) {
            synchronized (this) {
                nn = neighbours;
                if (nn == null || nn.k() < want) {
                    nn = LatentNeighbours.of(vq.rawCodebook(), vq.codebookSize(), vq.codeDim(), want);
                    neighbours = nn;
                }
            }
        }
        return nn;
    }

    /**
     * Plain AR for all images at once, as the official {@code generate}: rows are the B conditional then the B
     * unconditional sequences; each step draws one token per image, images in order ({@code torch.multinomial} on
     * {@code [B, V]}).
     */
    private Sampled batchedAutoregressive(LlamaGenRequest req, TorchGenerator rng, Progress progress) {
        long t0 = System.nanoTime();
        int[] classes = req.classes();
        int B = classes.length, N = model.config().tokens(), V = model.config().vocab();
        boolean guided = req.cfg() > 1.0;
        int[] labels = new int[guided ? 2 * B : B];
        for (int b = 0; b < B; b++) {
            labels[b] = classes[b];
            if (guided) labels[B + b] = model.config().numClasses();
        }
        LlamaGenModel.State s = model.start(labels);
        float[] logits = model.prefill(s);
        int[] out = new int[B * N];
        TokenDistribution dist = req.distribution();
        float cfg = (float) req.cfg();
        int forwards = 1;
        for (int t = 0; t < N; t++) {
            boolean apply = guided && (t == 0 || req.cfgInterval() < 0 || t - 1 <= req.cfgInterval());
            int[][] next = new int[labels.length][1];
            for (int b = 0; b < B; b++) {
                float[] p = dist.probabilitiesInPlace(TokenDistribution.guided(logits, b * V, (B + b) * V, apply, cfg, V));
                int tok = dist.greedy() ? TokenDistribution.argmax(p) : TorchMultinomial.withoutReplacement(p, 0, V, rng);
                out[b * N + t] = tok;
                next[b][0] = tok;
                if (guided) next[B + b][0] = tok;
            }
            progress.update("token", t + 1, N);
            if (t + 1 < N) {
                logits = model.forward(s, next);
                forwards++;
            }
        }
        return new Sampled(out, new SamplerStats("ar", B, B * N, forwards, 0, 0, 0, (System.nanoTime() - t0) * 1e-9));
    }

    @Override
    public void close() {
        files.close();
    }

    /** {@link #model} and {@link #vq} are required; the draft (for speculative and LANTERN) and heads optional. */
    public static final class Builder extends TokenPipelineBuilder<Builder> {
        private Path draft;
        private int draftHeads;

        public Builder draft(Path p) {
            this.draft = p;
            return this;
        }

        public Builder draftHeads(int h) {
            this.draftHeads = h;
            return this;
        }

        public LlamaGenPipeline load() {
            requireFiles("LlamaGen");
            return OpenCheckpoints.load(files -> {
                Checkpoint vqFile = files.open(vq);
                VqModel tokenizer = VqModel.load(vqFile, true, ops);
                int grid = tokenizer.tokenGrid(imageSize);
                Checkpoint m = files.open(model);
                LlamaGenModel gpt = LlamaGenModel.load(m, heads, grid, ops);
                tokenizer.requireVocabulary(gpt.config().vocab());
                LlamaGenModel d = null;
                if (draft != null) {
                    Checkpoint dc = files.open(draft);
                    d = LlamaGenModel.load(dc, draftHeads, grid, ops);
                    if (d.config().vocab() != gpt.config().vocab() || d.config().numClasses() != gpt.config().numClasses()) {
                        throw new TesseraException("the draft model must share the target's vocabulary and classes");
                    }
                }
                return new LlamaGenPipeline(files, gpt, d, tokenizer);
            });
        }
    }
}
