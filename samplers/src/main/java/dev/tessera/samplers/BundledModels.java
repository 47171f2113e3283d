package dev.tessera.samplers;

import dev.tessera.engine.TesseraException;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The models bundled with Tessera in {@code examples/models/fmnist/} (trained on Fashion-MNIST by the recipe in
 * {@code examples/train/}): where they are and the settings their cards recommend, defined here once for the Java
 * API, the command line and the tests.
 *
 * <p>The folder is found under the system property {@code tessera.home} (the {@code tessera} launcher sets it to the
 * repository), else the environment variable {@code TESSERA_HOME}, else the working directory or one of its two
 * parents.
 */
public final class BundledModels {
    /** Fashion-MNIST's classes, in label order. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot");
    /** The default VAR (depth 3) and its multi-scale VQ-VAE. */
    public static final String VAR_MODEL = "var-d3.safetensors", VAR_VAE = "vae.safetensors";
    /**
     * The quality judge (a CNN classifier), its feature statistics on the train and test sets, and 500 real test
     * images (50 per class) it is checked on.
     */
    public static final String JUDGE = "judge.safetensors",
            JUDGE_STATS = "judge-stats.safetensors",
            TEST_IMAGES = "fmnist-test-500.safetensors";
    /** The VAR card's recommendation: cfg 3, no top-k, no top-p (examples/models/fmnist/README.md). */
    public static final VarSettings VAR_SAMPLING = new VarSettings(3.0, 0, 0.0, false);
    /** The LlamaGen pair on one tokenizer: the target GPT, its draft (for speculative/LANTERN) and the VQ tokenizer. */
    public static final String LLAMAGEN_MODEL = "lg-target.safetensors",
            LLAMAGEN_DRAFT = "lg-draft.safetensors",
            LLAMAGEN_VQ = "lg-vq.safetensors";
    /** The LlamaGen models' image side: 32 px, an 8x8 grid of codes (the tokenizer downsamples by 4). */
    public static final int LLAMAGEN_IMAGE_SIZE = 32;
    /** The LlamaGen cards' recommendation: plain AR at cfg {@value #LLAMAGEN_CFG}, temperature 1, no top-k/top-p. */
    public static final double LLAMAGEN_CFG = 3.0;

    public static final LlamaGenSettings LLAMAGEN_SAMPLING =
            LlamaGenSettings.builder().cfg(LLAMAGEN_CFG).build();
    /**
     * NAR (next-neighbour decoding: the 8x8 grid in 15 forward passes) on the LlamaGen tokenizer, the LlamaGen
     * target's width and depth plus NAR's extra block and second head; sampled as the LlamaGen cards recommend.
     */
    public static final String NAR_MODEL = "lg-nar.safetensors";
    /**
     * The FlowAR pair on MAR's KL autoencoder at 32 px (an 8x8 grid of 16-channel latents, scales 1, 2, 4, 8): the
     * target (the default of {@code generate flowar}), its much cheaper draft (for a draft-verify sampler; the
     * default of {@code --draft} once there is one) and the autoencoder.
     */
    public static final String FLOWAR_MODEL = "flowar-target.safetensors",
            FLOWAR_DRAFT = "flowar-draft.safetensors",
            FLOWAR_VAE = "kl-vae.safetensors";
    /** The FlowAR cards' recommendation: cfg {@value #FLOWAR_CFG}, guidance 0.9, 25 steps (Euler), as FlowAR-S. */
    public static final double FLOWAR_CFG = 4.0;

    public static final FlowArSettings FLOWAR_SAMPLING =
            new FlowArSettings(FLOWAR_CFG, 0.9, 25, FlowSampler.EULER, null);

    /**
     * The MAR pair on the same KL autoencoder (64 tokens of 16 channels, patch size 1): the target and its cheaper
     * draft (for continuous speculative decoding, {@code --sampler cspd}).
     */
    public static final String MAR_MODEL = "mar-target.safetensors",
            MAR_DRAFT = "mar-draft.safetensors",
            MAR_VAE = FLOWAR_VAE;
    /**
     * Attention heads of the MAR target and draft (encoder = decoder; width / 64): checkpoints do not record heads
     * and these widths are not released sizes.
     */
    public static final int MAR_HEADS = 2, MAR_DRAFT_HEADS = 1;
    /** The MAR cards' recommendation: cfg {@value #MAR_CFG} (linear schedule). */
    public static final double MAR_CFG = 3.0;
    /** MAR steps of the bundle's sampling: 16 for the 64 tokens (the release: 256 steps for 256 tokens, or 64). */
    public static final int MAR_NUM_ITER = 16;
    /**
     * DDPM steps of the bundle's diffusion heads: {@value}, not the release's 100. The cosine schedule's last step
     * (beta clipped at 0.999) leaves alpha-bar at about 2.4e-9, so the first sampling step multiplies the head's
     * noise-prediction error at t = 999 by sqrt(alpha-bar(t') / alpha-bar(999)) (t' the next kept step): about 316 at
     * 100 steps, 63 at 500. The released heads predict that well enough; these small ones (error about 0.02) diverge
     * below about 400 steps (examples/models/fmnist/README.md).
     */
    public static final int MAR_DIFFUSION_STEPS = 500;
    /** The MAR cards' sampling: 16 steps, cfg 3 linear, temperature 1, {@value #MAR_DIFFUSION_STEPS} DDPM steps. */
    public static final MarSettings MAR_SAMPLING = new MarSettings(
            MAR_NUM_ITER, MAR_CFG, MarSettings.CfgSchedule.LINEAR, 1.0, MAR_DIFFUSION_STEPS, null, null);

    static final String FOLDER = "examples/models/fmnist";

    private BundledModels() {}

    /** The bundle's folder; a readable error naming the places looked at when it is not there. */
    public static Path directory() {
        List<Path> roots = new ArrayList<>();
        String home = System.getProperty("tessera.home"), env = System.getenv("TESSERA_HOME");
        if (home != null) roots.add(Path.of(home));
        else if (env != null) roots.add(Path.of(env));
        else roots.addAll(List.of(Path.of(""), Path.of(".."), Path.of("../..")));
        for (Path root : roots) {
            Path dir = root.resolve(FOLDER);
            if (Files.isRegularFile(dir.resolve(VAR_MODEL)) && Files.isRegularFile(dir.resolve(VAR_VAE))) return dir;
        }
        throw new TesseraException("the bundled models are missing: no " + FOLDER + "/" + VAR_MODEL + " under "
                + (home != null
                        ? "-Dtessera.home=" + home
                        : env != null ? "TESSERA_HOME=" + env : "the working directory or its parents")
                + " (set -Dtessera.home to the Tessera repository)");
    }

    /** The bundle's folder with the LlamaGen files checked too; a readable error naming the missing one. */
    public static Path llamaGenDirectory() {
        return directoryWith("LlamaGen", LLAMAGEN_MODEL, LLAMAGEN_DRAFT, LLAMAGEN_VQ);
    }

    /** The bundle's folder with the NAR model and its tokenizer checked too. */
    public static Path narDirectory() {
        return directoryWith("NAR", NAR_MODEL, LLAMAGEN_VQ);
    }

    /** The bundle's folder with the FlowAR target, draft and KL autoencoder checked too. */
    public static Path flowArDirectory() {
        return directoryWith("FlowAR", FLOWAR_MODEL, FLOWAR_DRAFT, FLOWAR_VAE);
    }

    /** The bundle's folder with the MAR target, draft and KL autoencoder checked too. */
    public static Path marDirectory() {
        return directoryWith("MAR", MAR_MODEL, MAR_DRAFT, MAR_VAE);
    }

    private static Path directoryWith(String family, String... files) {
        Path dir = directory();
        for (String f : files) {
            if (!Files.isRegularFile(dir.resolve(f)))
                throw new TesseraException("the bundled " + family + " models are missing: no " + dir.resolve(f));
        }
        return dir;
    }
}
