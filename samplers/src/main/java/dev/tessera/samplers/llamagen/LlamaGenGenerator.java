package dev.tessera.samplers.llamagen;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.samplers.Decoding;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Guidance;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.AutoregressiveSampler;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.LanternVerifier;
import dev.tessera.samplers.ar.LatentNeighbours;
import dev.tessera.samplers.ar.Sampled;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.SpeculativeSampler;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.ar.Verifier;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import dev.tessera.tokenizers.llamagen.VqModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * LlamaGen's class-conditional sampling and the VQ decode: plain AR runs the images of a call as one batch (as the
 * official {@code generate}); the accelerated samplers (speculative with a draft model, LANTERN, SJD) run them one
 * after another. Thread-safe: every call has its own state.
 */
public final class LlamaGenGenerator {
    private final LlamaGenModel model, draft;
    private final VqModel vq;
    private volatile LatentNeighbours neighbours;

    /** @param draft the draft model of speculative and LANTERN sampling, or null */
    public LlamaGenGenerator(LlamaGenModel model, LlamaGenModel draft, VqModel vq) {
        vq.requireVocabulary(model.config().vocab());
        if (draft != null
                && (draft.config().vocab() != model.config().vocab()
                        || draft.config().numClasses() != model.config().numClasses())) {
            throw new TesseraException("the draft model must share the target's vocabulary and classes");
        }
        this.model = model;
        this.draft = draft;
        this.vq = vq;
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

    /** One image per class; {@code progress} sees tokens ("token") or images ("image"), then the decoding. */
    public Generation<TokenDetails> generate(int[] classes, long seed, LlamaGenSettings s, Progress progress) {
        if (classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        model.config().checkClasses(classes);
        if ((s.sampler() == Sampler.SPECULATIVE || s.sampler() == Sampler.LANTERN) && draft == null) {
            throw new TesseraException("the " + s.sampler().id() + " sampler needs a draft model (--draft FILE)");
        }
        TorchGenerator rng = new TorchGenerator(seed);
        List<int[]> tokens = new ArrayList<>();
        List<SamplerStats> stats = new ArrayList<>();
        if (s.sampler() == Sampler.AR) {
            Sampled r = batchedAutoregressive(classes, s.tokens(), rng, progress);
            int n = model.config().tokens();
            for (int b = 0; b < classes.length; b++) tokens.add(Arrays.copyOfRange(r.tokens(), b * n, (b + 1) * n));
            stats.add(r.stats());
        } else {
            for (int b = 0; b < classes.length; b++) {
                Sampled r = sampleOne(classes[b], s, rng);
                tokens.add(r.tokens());
                stats.add(r.stats());
                progress.update("image", b + 1, classes.length);
            }
        }
        long t0 = System.nanoTime();
        int side = model.config().grid();
        List<GeneratedImage> images = Decoding.images(
                classes,
                side * vq.downsampling(),
                b -> vq.decode(tokens.get(b), 1, side),
                Decoding.Pixels.UNIT,
                progress);
        return new Generation<>(images, new TokenDetails(tokens, stats, (System.nanoTime() - t0) * 1e-9));
    }

    /** One image with an accelerated sampler (or plain AR through the same interface). */
    public Sampled sampleOne(int label, LlamaGenSettings s, TorchGenerator rng) {
        TokenSettings t = s.tokens();
        TokenDistribution dist = t.distribution();
        LlamaGenSequence target = new LlamaGenSequence(model, label, t.cfg(), t.cfgInterval());
        return switch (s.sampler()) {
            case AR -> new AutoregressiveSampler(dist).run(target, rng);
            case SPECULATIVE ->
                new SpeculativeSampler(s.gamma(), dist, Verifier.EXACT, "speculative")
                        .run(target, new LlamaGenSequence(draft, label, t.cfg(), t.cfgInterval()), rng);
            case LANTERN -> {
                LatentNeighbours nn = neighbours(s.lanternK());
                yield new SpeculativeSampler(
                                s.gamma(),
                                dist,
                                new LanternVerifier(nn, Math.min(s.lanternK(), nn.k()), s.lanternDelta()),
                                "lantern")
                        .run(target, new LlamaGenSequence(draft, label, t.cfg(), t.cfgInterval()), rng);
            }
            case SJD ->
                new JacobiSampler(s.sjdWindow(), s.sjdInit(), model.config().grid(), dist).run(target, rng);
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
    private Sampled batchedAutoregressive(int[] classes, TokenSettings s, TorchGenerator rng, Progress progress) {
        long t0 = System.nanoTime();
        int B = classes.length, N = model.config().tokens(), V = model.config().vocab();
        boolean guided = s.cfg() > 1.0;
        int[] labels = Guidance.labels(classes, model.config().numClasses(), guided);
        LlamaGenModel.State st = model.start(labels);
        float[] logits = model.prefill(st);
        int[] out = new int[B * N];
        TokenDistribution dist = s.distribution();
        float cfg = (float) s.cfg();
        int forwards = 1;
        for (int t = 0; t < N; t++) {
            boolean apply = guided && (t == 0 || s.cfgInterval() < 0 || t - 1 <= s.cfgInterval());
            int[][] next = new int[labels.length][1];
            for (int b = 0; b < B; b++) {
                float[] p =
                        dist.probabilitiesInPlace(TokenDistribution.guided(logits, b * V, (B + b) * V, apply, cfg, V));
                int tok =
                        dist.greedy() ? TokenDistribution.argmax(p) : TorchMultinomial.withoutReplacement(p, 0, V, rng);
                out[b * N + t] = tok;
                next[b][0] = tok;
                if (guided) next[B + b][0] = tok;
            }
            progress.update("token", t + 1, N);
            if (t + 1 < N) {
                logits = model.forward(st, next);
                forwards++;
            }
        }
        return new Sampled(out, new SamplerStats("ar", B, B * N, forwards, 0, 0, 0, (System.nanoTime() - t0) * 1e-9));
    }
}
