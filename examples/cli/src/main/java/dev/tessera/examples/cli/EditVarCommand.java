package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarEdit;
import dev.tessera.samplers.var.VarEditMask;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tessera edit var}: VAR's zero-shot editing of one picture, written as a PNG file. */
@Command(
        name = "var",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "zero-shot VAR editing: regenerate part of a picture (in-/out-painting, class edit) -> PNG",
        description = {
            "Edits one picture with VAR as the official demo_zero_shot_edit notebook does: the picture is tokenised",
            "by the VQ-VAE at every scale, then the scales are generated coarse to fine while the kept positions",
            "take the picture's tokens, so the model fills in the rest in context.",
            "",
            "What to regenerate: --box y0,x0,y1,x1 (fractions of the picture, as the notebook's get_edit_mask;",
            "in-painting regenerates inside the box, --outpaint keeps the inside and regenerates the rest), or",
            "--mask MASK.png (a picture of any size, white = regenerate). --class none is the null class (pure",
            "in-painting); a class steers the regenerated part towards it (class-conditional editing).",
            "",
            "Without --model and --vae it uses the bundled Fashion-MNIST VAR (32x32 px) with its card's sampling.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera edit var --image sneaker.png --box 0.5,0,1,1 --class \"ankle boot\" --out boot.png",
            "  tessera edit var --model var_d16.pth --vae vae_ch160v4096z32.pth --image in.png --mask hole.png \\",
            "      --class none --cfg 3 --top-k 900 --top-p 0.95 --more-smooth --out out.png"
        })
public final class EditVarCommand extends CommandBase {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description = "VAR transformer checkpoint (.pth or .safetensors); with --vae, or neither")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "VAR multi-scale VQ-VAE checkpoint (with encoder)")
    Path vae;

    @Option(
            names = "--patch-nums",
            paramLabel = "LIST",
            split = ",",
            description = "token-map sides per scale, e.g. 1,2,3,4,6,9,13,18,24,32 for 512 px (default: the schedule "
                    + "recorded in the checkpoint)")
    int[] patchNums;

    @Option(
            names = "--image",
            paramLabel = "FILE",
            description = "(required) the picture to edit (PNG, JPEG, BMP or GIF) at the model's resolution")
    Path image;

    @Option(
            names = "--box",
            paramLabel = "Y0,X0,Y1,X1",
            split = ",",
            description = "the box to regenerate, as fractions of the picture (top, left, bottom, right)")
    double[] box;

    @Option(names = "--outpaint", description = "with --box: keep the inside of the box, regenerate the outside")
    boolean outpaint;

    @Option(
            names = "--mask",
            paramLabel = "FILE",
            description = "instead of --box: a picture of any size, white = regenerate, black = keep")
    Path mask;

    @Option(
            names = "--class",
            paramLabel = "N|NAME|none",
            description = "(required) the class to steer towards, by index or name, or 'none' (pure in-painting)")
    String label;

    @Mixin
    SeedOption seed = new SeedOption();

    @Mixin
    SamplingOptions sampling = SamplingOptions.of(VarSettings.OFFICIAL);

    @Option(names = "--more-smooth", description = "Gumbel-softmax smoothing of token embeddings (the notebook's look)")
    boolean moreSmooth;

    @Option(names = "--out", paramLabel = "FILE", description = "(required) the edited picture, a .png file")
    Path outFile;

    @Option(
            names = "--tokens-out",
            paramLabel = "FILE",
            description = "also write the composite token maps (the picture's where kept, the chosen ones elsewhere) "
                    + "as JSON, in generate var's format")
    Path tokensOut;

    @Mixin
    LoadOptions load = new LoadOptions();

    public EditVarCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        WeightPanels.Format format = load.start(out);
        BundledVar bundled = model != null || vae != null ? null : BundledVar.locate();
        Path modelFile = bundled != null ? bundled.model() : require(model, "--model");
        Path vaeFile = bundled != null ? bundled.vae() : require(vae, "--vae");
        VarSettings settings = sampling.var(bundled != null ? BundledVar.SAMPLING : VarSettings.OFFICIAL, moreSmooth);
        if (patchNums != null) {
            for (int p : patchNums) {
                if (p <= 0) throw new UsageException("--patch-nums values must be positive, got " + p);
            }
        }
        require(image, "--image");
        if ((box == null) == (mask == null)) {
            throw new UsageException("give either --box or --mask, to say what to regenerate (" + hint() + ")");
        }
        if (outpaint && box == null) throw new UsageException("--outpaint goes with --box");
        if (box != null) {
            if (box.length != 4) throw new UsageException("--box takes four fractions y0,x0,y1,x1, got " + box.length);
            for (double f : box) {
                if (!(f >= 0 && f <= 1)) throw new UsageException("--box values are fractions in [0, 1], got " + f);
            }
            if (!(box[0] < box[2] && box[1] < box[3])) {
                throw new UsageException(
                        "--box needs y0 < y1 and x0 < x1, got " + box[0] + "," + box[1] + "," + box[2] + "," + box[3]);
            }
        }
        require(label, "--class");
        Path file = require(outFile, "--out");
        if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new UsageException("--out " + file + " must name a .png file");
        }
        BufferedImage picture = Images.read(image);
        BufferedImage maskPicture = mask != null ? Images.read(mask) : null;
        long t0 = System.nanoTime();
        try (VarPipeline pipe = VarPipeline.builder()
                .model(modelFile)
                .vae(vaeFile)
                .patchNums(patchNums)
                .weights(format)
                .ops(load.ops())
                .load()) {
            int side = pipe.vqvae().imageSide();
            if (picture.getWidth() != side || picture.getHeight() != side) {
                throw new UsageException("--image " + image + " is " + picture.getWidth() + "x" + picture.getHeight()
                        + " but this model works at " + side + "x" + side + "; resize it first");
            }
            int cls = resolve(pipe, bundled != null);
            VarEditMask m = box != null
                    ? VarEditMask.box(pipe.vqvae().side(), box[0], box[1], box[2], box[3], !outpaint)
                    : whiteness(maskPicture, pipe.vqvae().side());
            double loadSeconds = (System.nanoTime() - t0) * 1e-9;
            List<int[]> tokens = pipe.encode(Images.toTensor(picture), side, side);
            ProgressBar bar = new ProgressBar("editing " + image.getFileName());
            Generation<VarDetails> r = pipe.edit(new VarEdit(tokens, m, cls), seed.seed(), settings, bar);
            bar.finish();
            GeneratedImage img = r.images().get(0);
            img.writePng(file);
            String name = cls == pipe.nullClass()
                    ? "none"
                    : cls
                            + (bundled != null
                                    ? " " + BundledVar.CLASSES.get(cls)
                                    : Outputs.describe(cls, pipe.numClasses()));
            int finest = m.side() * m.side();
            out.printf(
                    "wrote %s (%dx%d, class %s, %d of %d finest tokens regenerated)%n",
                    file, img.width(), img.height(), name, m.regenerated(), finest);
            if (tokensOut != null) {
                GenerateVarCommand.writeTokens(tokensOut, r.details(), new int[] {cls});
                out.println("wrote " + tokensOut);
            }
            VarDetails.Timings t = r.details().timings();
            out.printf(
                    "%s | load %.2f s, transformer %.2f s, sampling %.2f s, VQ %.2f s, decode %.2f s%n",
                    pipe.config(),
                    loadSeconds,
                    t.transformerTotal(),
                    t.samplingSeconds(),
                    t.vqSeconds(),
                    t.decodeSeconds());
            if (load.deviceGiven()) out.println("device " + load.ops().name());
            return 0;
        } finally {
            load.close();
        }
    }

    /** The class by index or name, or the null class for "none". */
    private int resolve(VarPipeline pipe, boolean bundledModel) {
        if (label.strip().equalsIgnoreCase("none")) return pipe.nullClass();
        return bundledModel ? BundledVar.resolve(label) : Outputs.classes(List.of(label), pipe.numClasses())[0];
    }

    /** White = regenerate: the mean of the three channels of every pixel. */
    private static VarEditMask whiteness(BufferedImage picture, int side) {
        int H = picture.getHeight(), W = picture.getWidth(), plane = H * W;
        float[] rgb = Images.toTensor(picture), white = new float[plane];
        for (int i = 0; i < plane; i++) white[i] = (rgb[i] + rgb[plane + i] + rgb[2 * plane + i]) / 3f;
        return VarEditMask.fromWhiteness(white, H, W, side);
    }
}
