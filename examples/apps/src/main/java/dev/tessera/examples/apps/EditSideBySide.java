package dev.tessera.examples.apps;

import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.var.VarEdit;
import dev.tessera.samplers.var.VarEditMask;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * Zero-shot editing with the bundled Fashion-MNIST VAR: sneakers it generates (seeds 0, 1, ...) keep their sole (the
 * lowest quarter of the picture) and have the rest regenerated as an ankle boot, with the model card's sampling. One
 * row per seed: the input, the mask (white = regenerated) and the edit, each 32x32, as one PNG.
 *
 * <pre>java ... dev.tessera.examples.apps.EditSideBySide OUT.png [ROWS]</pre>
 */
public final class EditSideBySide {
    private static final int SNEAKER = 7, ANKLE_BOOT = 9;

    private EditSideBySide() {}

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: EditSideBySide OUT.png [ROWS]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        try (VarPipeline var = VarPipeline.loadDefault()) {
            int side = var.vqvae().imageSide();
            VarEditMask aboveTheSole = VarEditMask.box(var.vqvae().side(), 0, 0, 0.75, 1, true);
            BufferedImage sheet = new BufferedImage(3 * side, rows * side, BufferedImage.TYPE_INT_RGB);
            for (int r = 0; r < rows; r++) {
                GeneratedImage sneaker =
                        var.generate(new int[] {SNEAKER}, r).images().get(0);
                List<int[]> tokens = var.encode(sneaker.pixels(), side, side);
                GeneratedImage boot = var.edit(
                                new VarEdit(tokens, aboveTheSole, ANKLE_BOOT), r, var.defaults(), Progress.NONE)
                        .images()
                        .get(0);
                paste(sheet, sneaker.toBufferedImage(), 0, r);
                paste(sheet, maskPicture(aboveTheSole, side), 1, r);
                paste(sheet, boot.toBufferedImage(), 2, r);
            }
            Images.writePng(sheet, out);
            System.out.println("wrote " + out + " (input | mask | edit, " + rows + " rows)");
        }
    }

    /** The mask as a picture: white where the finest token map is regenerated. */
    private static BufferedImage maskPicture(VarEditMask mask, int side) {
        int n = mask.side(), cell = side / n;
        boolean[] kept = mask.kept(n);
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) img.setRGB(x, y, kept[(y / cell) * n + x / cell] ? 0x000000 : 0xffffff);
        }
        return img;
    }

    private static void paste(BufferedImage sheet, BufferedImage img, int col, int row) {
        int w = img.getWidth(), h = img.getHeight();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) sheet.setRGB(col * w + x, row * h + y, img.getRGB(x, y));
        }
    }
}
