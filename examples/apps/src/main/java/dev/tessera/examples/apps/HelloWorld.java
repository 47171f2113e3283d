package dev.tessera.examples.apps;

import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import java.nio.file.Path;

/**
 * One image from the bundled default model: a Fashion-MNIST sneaker drawn by the VAR in examples/models/fmnist.
 *
 * <pre>java ... dev.tessera.examples.apps.HelloWorld [OUT.png]</pre>
 */
public final class HelloWorld {
    private HelloWorld() {}

    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "sneaker.png");
        int sneaker = BundledModels.FASHION_MNIST_CLASSES.indexOf("sneaker");
        try (VarPipeline var = VarPipeline.loadDefault()) { // no paths: the bundled VAR + VQ-VAE
            Generation<VarDetails> g = var.generate(new int[] {sneaker}, 0); // seed 0, the card's settings
            g.images().get(0).writePng(out);
        }
        System.out.println("wrote " + out);
    }
}
