package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/**
 * NAR's two heads are mixed on the device: each step of {@code nar-small} under CFG (4 rows) downloads exactly the
 * mixed logits the sampler reads, {@code rows × n_out × V} floats, not either head's logits.
 */
class NarTransfersTest {

    @Test
    void eachStepDownloadsOnlyTheMixedLogits() {
        OpenClOps cl = (OpenClOps) OpenClTesting.first();
        try (Golden g = Golden.vendored("nar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            NarModel m = NarModel.load(ckpt, 4, 16, 1, cl);
            int V = m.config().vocab(), rows = 4;
            int[] tokens = g.ints("greedy.tokens");
            NarModel.State s = m.start(new int[] {4, 8, 10, 10});
            long down = cl.bytesFromDevice(), total = 0;
            m.prefill(s); // uploads the weights too
            long up = cl.bytesToDevice();
            assertEquals((long) rows * V * Float.BYTES, cl.bytesFromDevice() - down, "prefill: bytes from the device");
            total += cl.bytesFromDevice() - down;
            for (int k = 1; k < m.steps(); k++) {
                int[] in = m.diagonal(k - 1);
                int nOut = m.diagonal(k).length;
                int[][] feed = new int[rows][in.length];
                for (int r = 0; r < rows; r++) {
                    for (int i = 0; i < in.length; i++) feed[r][i] = tokens[(r % 2) * 256 + in[i]];
                }
                long before = cl.bytesFromDevice();
                m.step(s, feed);
                long moved = cl.bytesFromDevice() - before;
                assertEquals(
                        (long) rows * nOut * V * Float.BYTES,
                        moved,
                        "step " + k + " (" + in.length + " tokens in, " + nOut + " out): bytes from the device");
                total += moved;
            }
            m.finish(s);
            System.out.printf(
                    "nar-small, 4 rows, 31 passes: %.2f MB from the device (the mixed logits); %.2f MB to it after the"
                            + " first pass%n",
                    total / 1e6, (cl.bytesToDevice() - up) / 1e6);
        }
    }
}
