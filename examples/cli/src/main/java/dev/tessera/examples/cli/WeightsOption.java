package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import java.io.PrintStream;
import picocli.CommandLine.Option;

/**
 * {@code --weights f32|bf16|fp16}: the element format of linear-layer weights for the models a command loads. It is
 * passed to loading; nothing process-wide changes.
 */
public final class WeightsOption {
    @Option(
            names = "--weights",
            paramLabel = "F",
            description = "f32 (default; -Dtessera.weights=F sets another), bf16 or fp16: linear weights stored "
                    + "as bfloat16 or IEEE float16: half their memory (on an OpenCL device too), faster when "
                    + "streaming them dominates (LlamaGen); results differ slightly. fp16 keeps more digits than "
                    + "bf16 but refuses a weight beyond +-65504")
    String weights;

    /**
     * The format: {@code --weights}, else {@code -Dtessera.weights} (read here, by the command line only), else f32.
     * A 16-bit format is announced on {@code notes}, since its results differ from the checkpoint's.
     */
    public WeightPanels.Format format(PrintStream notes) {
        WeightPanels.Format f;
        if (weights == null) {
            String p = System.getProperty("tessera.weights");
            f = p == null ? WeightPanels.Format.F32 : WeightPanels.Format.parse(p);
            if (f == null) throw new UsageException("-Dtessera.weights=" + p + ": expected f32, bf16 or fp16");
        } else {
            f = WeightPanels.Format.parse(weights);
            if (f == null) throw new UsageException("--weights expects f32, bf16 or fp16, got '" + weights + "'");
        }
        if (f == WeightPanels.Format.BF16) {
            notes.println("linear weights in bfloat16: results differ slightly from the float32 checkpoint's");
        } else if (f == WeightPanels.Format.FP16) {
            notes.println("linear weights in float16: results differ slightly from the float32 checkpoint's");
        }
        return f;
    }
}
