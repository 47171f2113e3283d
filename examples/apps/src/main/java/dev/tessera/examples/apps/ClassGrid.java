package dev.tessera.examples.apps;

import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.var.VarPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A grid of every class of the bundled model: one row per class, {@code perRow} samples in each row, all generated
 * in one call per row (a batch of one class), seeds 0, 1, 2, ... per row.
 *
 * <pre>java ... dev.tessera.examples.apps.ClassGrid [OUT.png] [PER_ROW]</pre>
 */
public final class ClassGrid {
    private ClassGrid() {}

    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "grid.png");
        int perRow = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        try (VarPipeline var = VarPipeline.loadDefault()) {
            int classes = var.numClasses();
            BufferedImage grid = null;
            for (int c = 0; c < classes; c++) {
                int[] row = new int[perRow];
                Arrays.fill(row, c);
                List<GeneratedImage> images = var.generate(row, c).images();
                for (int i = 0; i < perRow; i++) {
                    BufferedImage img = images.get(i).toBufferedImage();
                    if (grid == null)
                        grid = new BufferedImage(
                                perRow * img.getWidth(), classes * img.getHeight(), BufferedImage.TYPE_INT_RGB);
                    grid.getGraphics().drawImage(img, i * img.getWidth(), c * img.getHeight(), null);
                }
            }
            ImageIO.write(grid, "png", out.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println("wrote " + out);
    }
}
