package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Interpolation;
import java.util.Locale;

/**
 * How an 8-bit image becomes the Inception's {@code [3, 299, 299]} input. The tools that papers use differ here,
 * and their statistics are only comparable with statistics made the same way:
 * <ul>
 *   <li>{@link #ADM}: TF1's legacy bilinear resize on the values 0..255, then {@code (x − 128)/128}: what the TF
 *       graph does inside, as run by TTUR and by the ADM evaluator (guided-diffusion) that VAR, LlamaGen, DiT and
 *       FlowAR report with. The default.</li>
 * <li>{@link #PYTORCH_FID}: pytorch-fid: {@code k/255}, PyTorch's half-pixel bilinear resize, then {@code 2x − 1}.</li>
 *   <li>{@link #CLEAN_FID}: clean-fid's default "clean" mode: Pillow's antialiased bicubic resize in float per
 *       channel, clipped to [0, 255] (not re-quantised), then {@code (x − 128)/128}.</li>
 * </ul>
 */
public enum Preprocessing {
    ADM("adm"),
    PYTORCH_FID("pytorch-fid"),
    CLEAN_FID("clean-fid");

    private final String id;

    Preprocessing(String id) {
        this.id = id;
    }

    /** The name used on the command line and stored with statistics ("adm", "pytorch-fid", "clean-fid"). */
    public String id() {
        return id;
    }

    /** The mode named {@code id}, or null. */
    public static Preprocessing byId(String id) {
        for (Preprocessing p : values()) {
            if (p.id.equals(id.toLowerCase(Locale.ROOT))) return p;
        }
        return null;
    }

    /** The network input {@code [3, 299, 299]} for one image. */
    public float[] apply(Rgb8Image image) {
        int S = FidInception.SIDE, H = image.height(), W = image.width(), plane = S * S;
        float[] out = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            int off = c * plane;
            switch (this) {
                case ADM -> {
                    TfLegacyBilinear.resizePlane(image.plane(c, 1f), 0, H, W, out, off, S, S);
                    for (int i = off; i < off + plane; i++) out[i] = (out[i] - 128f) * (1f / 128f);
                }
                case PYTORCH_FID -> {
                    Interpolation.bilinearPlane(image.plane(c, 255f), 0, H, W, out, off, S, S);
                    for (int i = off; i < off + plane; i++) out[i] = 2f * out[i] - 1f;
                }
                case CLEAN_FID -> {
                    PilBicubic.resizePlane(image.plane(c, 1f), 0, H, W, out, off, S, S);
                    for (int i = off; i < off + plane; i++)
                        out[i] = (Math.min(Math.max(out[i], 0f), 255f) - 128f) / 128f;
                }
            }
        }
        return out;
    }
}
