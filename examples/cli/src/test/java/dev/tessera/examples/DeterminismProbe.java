package dev.tessera.examples;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.fid.FeatureExtractor;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.examples.fid.inception.Rgb8Image;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * Run in a child JVM by {@link ThreadAndBatchIndependenceTest} with {@code -Dtessera.threads=N}. For every family, on
 * the vendored small models: one sampled image (tokens or latents, decoded pixels, and the logits behind the tokens,
 * recomputed by feeding the generation's own tokens back through the model), then image a alone and as the second
 * image of a batch [b, a] (greedy; FlowAR from noise that belongs to each image), the same outputs restricted to
 * image a's rows. For the FID Inception: the features of six images as a batch and one at a time. Prints
 * {@code threads N}, then {@code digest NAME SHA-256 VALUES SECONDS} per output and {@code seconds PART S} per part.
 * Arguments: the parts to run ({@code var}, {@code llamagen}, {@code nar}, {@code flowar}, {@code fid}).
 */
public final class DeterminismProbe {
    /** The classes of the batch test: a alone, and [b, a] with a second. */
    static final int A = 3, B = 5;

    private DeterminismProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println("threads " + Parallel.threads());
        Path data = Path.of(System.getProperty("tessera.testdata")).toAbsolutePath();
        for (String part : args) {
            long t0 = System.nanoTime();
            switch (part) {
                case "var" -> var(data);
                case "llamagen" -> llamagen(data);
                case "nar" -> nar(data);
                case "flowar" -> flowar(data);
                case "fid" ->
                    fid(data, Path.of(System.getProperty("tessera.golden")).toAbsolutePath());
                default -> throw new IllegalArgumentException("unknown part " + part);
            }
            System.out.printf(Locale.ROOT, "seconds %s %.2f%n", part, (System.nanoTime() - t0) * 1e-9);
        }
        System.out.flush();
    }

    static void var(Path data) {
        try (VarPipeline p = VarPipeline.load(data.resolve("var-small/var.pth"), data.resolve("var-small/vae.pth"))) {
            Generation<VarDetails> r = p.generate(new int[] {4}, 99, new VarSettings(2, 30, 0.9, false));
            Digest d = new Digest();
            for (int[] t : r.details().tokens()) d.add(t);
            d.add(r.details().fhat()).add(r.images().getFirst().pixels());
            for (float[] l : varLogits(p, r, 1)) d.add(l);
            d.print("var.sampled");
            Generation<VarDetails> both = p.generate(new int[] {B, A}, 0, VarSettings.OFFICIAL.withTopK(1));
            Generation<VarDetails> alone = p.generate(new int[] {A}, 0, VarSettings.OFFICIAL.withTopK(1));
            varImage(p, both, 2, 1).print("var.greedy.a@[b,a]");
            varImage(p, alone, 1, 0).print("var.greedy.a@[a]");
            varImage(p, both, 2, 0).print("var.greedy.b@[b,a]");
        }
    }

    /** Image b of a batch of n: its tokens, pixels and the logits of its conditional and unconditional rows. */
    private static Digest varImage(VarPipeline p, Generation<VarDetails> r, int n, int b) {
        Digest d = new Digest();
        for (int si = 0; si < r.details().patchNums().length; si++)
            d.add(r.details().tokens(b, si));
        d.add(r.images().get(b).pixels());
        for (float[] l : varLogits(p, r, n)) d.add(rows(l, 2 * n, b, n + b));
        return d;
    }

    /**
     * The transformer's logits {@code [2n, l, V]} at every scale, fed the generation's own tokens through the same
     * scale-by-scale path as the generator (the continuous values behind the tokens, which an ulp does not move).
     */
    private static List<float[]> varLogits(VarPipeline p, Generation<VarDetails> r, int n) {
        VarTransformer m = p.transformer();
        MultiScaleVqVae vae = p.vqvae();
        int[] labels = new int[2 * n];
        for (int b = 0; b < n; b++) {
            labels[b] = r.images().get(b).label();
            labels[n + b] = m.config().numClasses();
        }
        VarTransformer.State s = m.start(labels);
        float[] x = m.firstInput(s), fhat = vae.newFhat(n);
        List<float[]> out = new ArrayList<>();
        for (int si = 0; si < r.details().patchNums().length; si++) {
            out.add(m.forward(s, si, x).clone());
            float[] next = vae.addScale(
                    fhat,
                    n,
                    si,
                    vae.embed(r.details().tokens().get(si), n, r.details().patchNums()[si]));
            if (next != null) x = m.nextInput(si + 1, next, n, 2);
        }
        return out;
    }

    static void llamagen(Path data) {
        try (LlamaGenPipeline p = LlamaGenPipeline.builder()
                .model(data.resolve("llamagen-small/gpt.pth"))
                .vq(data.resolve("llamagen-small/vq.pth"))
                .heads(4)
                .load()) {
            Generation<TokenDetails> r = p.generate(
                    new int[] {9},
                    7,
                    LlamaGenSettings.builder().cfg(2.0).topK(100).topP(0.95).build());
            Digest d = tokenImage(r, 0);
            for (float[] l : llamagenLogits(p.model(), r)) d.add(l);
            d.print("llamagen.sampled");
            Generation<TokenDetails> both = p.generate(
                    new int[] {B, A},
                    0,
                    LlamaGenSettings.builder().cfg(2.0).topK(1).build());
            Generation<TokenDetails> alone = p.generate(
                    new int[] {A},
                    0,
                    LlamaGenSettings.builder().cfg(2.0).topK(1).build());
            llamagenImage(p.model(), both, 1).print("llamagen.greedy.a@[b,a]");
            llamagenImage(p.model(), alone, 0).print("llamagen.greedy.a@[a]");
            llamagenImage(p.model(), both, 0).print("llamagen.greedy.b@[b,a]");
        }
    }

    private static Digest llamagenImage(LlamaGenModel m, Generation<TokenDetails> r, int b) {
        int n = r.images().size();
        Digest d = tokenImage(r, b);
        for (float[] l : llamagenLogits(m, r)) d.add(rows(l, 2 * n, b, n + b));
        return d;
    }

    /**
     * The logits {@code [2n, V]} of every token, fed the generation's tokens one at a time as in decoding, then
     * {@code [2n, N−1, V]} with all of them fed at once (as the speculative samplers verify drafts: the small
     * model's decoding steps are too small to be split between threads, these are not).
     */
    private static List<float[]> llamagenLogits(LlamaGenModel m, Generation<TokenDetails> r) {
        int n = r.images().size(), N = m.config().tokens();
        int[] labels = labels(r, m.config().numClasses());
        LlamaGenModel.State s = m.start(labels);
        List<float[]> out = new ArrayList<>();
        out.add(m.prefill(s).clone());
        int[][] all = new int[2 * n][N - 1];
        for (int t = 0; t + 1 < N; t++) {
            int[][] next = new int[2 * n][1];
            for (int row = 0; row < 2 * n; row++)
                next[row][0] = all[row][t] = r.details().tokens().get(row % n)[t];
            out.add(m.forward(s, next).clone());
        }
        LlamaGenModel.State whole = m.start(labels);
        m.prefill(whole);
        out.add(m.forward(whole, all).clone());
        return out;
    }

    static void nar(Path data) {
        try (NarPipeline p = NarPipeline.builder()
                .model(data.resolve("nar-small/gpt.pth"))
                .vq(data.resolve("llamagen-small/vq.pth"))
                .heads(4)
                .load()) {
            Generation<TokenDetails> r = p.generate(
                    new int[] {8},
                    7,
                    TokenSettings.builder().cfg(2.0).topK(100).topP(0.95).build());
            Digest d = tokenImage(r, 0);
            for (float[] l : narLogits(p.model(), r)) d.add(l);
            d.print("nar.sampled");
            Generation<TokenDetails> both = p.generate(
                    new int[] {B, A},
                    0,
                    TokenSettings.builder().cfg(2.0).topK(1).build());
            Generation<TokenDetails> alone = p.generate(
                    new int[] {A}, 0, TokenSettings.builder().cfg(2.0).topK(1).build());
            narImage(p.model(), both, 1).print("nar.greedy.a@[b,a]");
            narImage(p.model(), alone, 0).print("nar.greedy.a@[a]");
            narImage(p.model(), both, 0).print("nar.greedy.b@[b,a]");
        }
    }

    private static Digest narImage(NarModel m, Generation<TokenDetails> r, int b) {
        int n = r.images().size();
        Digest d = tokenImage(r, b);
        for (float[] l : narLogits(m, r)) d.add(rows(l, 2 * n, b, n + b));
        return d;
    }

    /** The logits {@code [2n, positions, V]} of every step, fed the generation's tokens diagonal by diagonal. */
    private static List<float[]> narLogits(NarModel m, Generation<TokenDetails> r) {
        int n = r.images().size(), V = m.config().vocab();
        NarModel.State s = m.start(labels(r, m.config().numClasses()));
        List<float[]> out = new ArrayList<>();
        out.add(Arrays.copyOf(m.prefill(s), 2 * n * V));
        for (int k = 0; k + 1 < m.steps(); k++) {
            int[] pos = m.diagonal(k);
            int[][] feed = new int[2 * n][pos.length];
            for (int row = 0; row < 2 * n; row++) {
                for (int j = 0; j < pos.length; j++)
                    feed[row][j] = r.details().tokens().get(row % n)[pos[j]];
            }
            float[] l = m.step(s, feed);
            out.add(Arrays.copyOf(l, 2 * n * m.diagonal(k + 1).length * V));
        }
        m.finish(s);
        return out;
    }

    /** The conditional labels of the images, then as many unconditional ones. */
    private static int[] labels(Generation<TokenDetails> r, int nullClass) {
        int n = r.images().size();
        int[] labels = new int[2 * n];
        for (int b = 0; b < n; b++) {
            labels[b] = r.images().get(b).label();
            labels[n + b] = nullClass;
        }
        return labels;
    }

    private static Digest tokenImage(Generation<TokenDetails> r, int b) {
        return new Digest()
                .add(r.details().tokens().get(b))
                .add(r.images().get(b).pixels());
    }

    /** Rows {@code which} of {@code a}, an array of {@code rows} equal rows. */
    static float[] rows(float[] a, int rows, int... which) {
        int per = a.length / rows;
        float[] out = new float[which.length * per];
        for (int i = 0; i < which.length; i++) System.arraycopy(a, which[i] * per, out, i * per, per);
        return out;
    }

    static void flowar(Path data) {
        try (FlowArPipeline p =
                FlowArPipeline.load(data.resolve("flowar-small/flowar.pth"), data.resolve("flowar-small/vae.pth"))) {
            // the seeded CPU stream as the official code draws it, Euler, CFG
            Generation<FlowArDetails> r =
                    p.generate(new int[] {7}, 5, new FlowArSettings(2.0, 0.9, 10, FlowSampler.EULER, null));
            Digest d = new Digest().add(r.details().latents());
            for (float[] z : r.details().conditions()) d.add(z);
            for (GeneratedImage img : r.images()) d.add(img.pixels());
            d.print("flowar.sampled");
            // Euler–Maruyama with noise that belongs to each image, so that an image can be generated alone
            FlowArSettings em = new FlowArSettings(2.0, 0.9, 6, FlowSampler.EULER_MARUYAMA, null);
            Generation<FlowArDetails> both = p.generate(new int[] {B, A}, 0, em.withNoise(seed -> perImage(B, A)));
            Generation<FlowArDetails> alone = p.generate(new int[] {A}, 0, em.withNoise(seed -> perImage(A)));
            flowarImage(both, 1, 2).print("flowar.em.a@[b,a]");
            flowarImage(alone, 0, 1).print("flowar.em.a@[a]");
            flowarImage(both, 0, 2).print("flowar.em.b@[b,a]");
        }
    }

    /** Image b's latents (of {@code [B, D, side, side]}), pixels and the AR conditions of its two rows. */
    private static Digest flowarImage(Generation<FlowArDetails> r, int b, int count) {
        Digest d = new Digest()
                .add(rows(r.details().latents(), count, b))
                .add(r.images().get(b).pixels());
        for (float[] z : r.details().conditions()) d.add(rows(z, 2 * count, b, count + b));
        return d;
    }

    /**
     * Noise drawn per image and CFG half: row r (image r mod B, half r / B) takes its starting and step noise from
     * generators seeded by its class, so an image gets the same noise whatever the batch around it.
     */
    static FlowNoise perImage(int... classes) {
        int n = classes.length;
        TorchGenerator[] start = new TorchGenerator[2 * n], steps = new TorchGenerator[2 * n];
        for (int r = 0; r < 2 * n; r++) {
            long seed = 1000L * classes[r % n] + r / n;
            start[r] = new TorchGenerator(seed);
            steps[r] = new TorchGenerator(seed + 500);
        }
        return new FlowNoise() {
            @Override
            public float[] initial(int scale, int rows, int tokens, int dim) {
                float[] a = new float[rows * tokens * dim];
                for (int r = 0; r < rows; r++) start[r].fillNormal(a, r * tokens * dim, tokens * dim);
                return a;
            }

            @Override
            public double[] step(int scale, int step, int rows, int tokens, int dim) {
                double[] a = new double[rows * tokens * dim];
                for (int r = 0; r < rows; r++) steps[r].fillNormal(a, r * tokens * dim, tokens * dim);
                return a;
            }
        };
    }

    static void fid(Path data, Path golden) {
        try (Checkpoint g = Checkpoints.open(data.resolve("fid-small/golden.safetensors"));
                FidInception net = FidInception.load(golden.resolve("fid-small/pt_inception-random.pth"), Ops.cpu())) {
            List<Rgb8Image> images = images(
                    g.tensor("inception.input").toFloatArray(),
                    g.tensor("inception.input").shape());
            FeatureExtractor fx = new FeatureExtractor(net, Preprocessing.PYTORCH_FID);
            List<InceptionFeatures> batch = fx.features(images);
            for (int i = 0; i < images.size(); i++) {
                features(batch.get(i)).print("fid.image" + i + "@batch");
                features(fx.features(List.of(images.get(i))).getFirst()).print("fid.image" + i + "@alone");
            }
        }
    }

    private static Digest features(InceptionFeatures f) {
        return new Digest().add(f.pool3()).add(f.logits()).add(f.spatial());
    }

    /** NCHW floats k/255 to 8-bit images. */
    static List<Rgb8Image> images(float[] x, long[] shape) {
        int n = (int) shape[0], h = (int) shape[2], w = (int) shape[3], plane = h * w;
        List<Rgb8Image> out = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            byte[] hwc = new byte[3 * plane];
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < plane; i++) hwc[3 * i + c] = (byte) Math.round(x[(b * 3 + c) * plane + i] * 255f);
            }
            out.add(new Rgb8Image(h, w, hwc));
        }
        return out;
    }

    /** SHA-256 over the exact bits of the values added, and how many there were. */
    static final class Digest {
        static long last = System.nanoTime();
        private final MessageDigest sha;
        private long values;

        Digest() {
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        Digest add(float[] a) {
            ByteBuffer buf = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(a);
            sha.update(buf);
            values += a.length;
            return this;
        }

        Digest add(int[] a) {
            ByteBuffer buf = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
            buf.asIntBuffer().put(a);
            sha.update(buf);
            values += a.length;
            return this;
        }

        void print(String name) {
            long now = System.nanoTime();
            System.out.printf(
                    Locale.ROOT,
                    "digest %s %s %d %.2f%n",
                    name,
                    HexFormat.of().formatHex(sha.digest()),
                    values,
                    (now - last) * 1e-9);
            last = now;
        }
    }
}
