package dev.tessera.samplers.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Calls on one pipeline from several threads at once: while one call holds the engine's workers, the other runs its
 * kernels on its own thread, and each must give the bits of a lone call with every section on the calling thread
 * ({@link Parallel#serially}) — the tokens, the pixels and the logits behind the tokens (tokens alone would hide an
 * ulp). The engine's own thread count is this machine's core count here (one core makes the comparison with the
 * serial call trivial); forced thread counts 1, 2 and 3, for every family, are the examples module's
 * {@code ThreadAndBatchIndependenceTest}, which runs each count in its own JVM.
 */
class ThreadIndependenceTest {

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void concurrentCallsGiveTheBitsOfASerialCall() throws Exception {
        try (VarPipeline var = VarPipeline.load(
                Golden.testdata().resolve("var-small/var.pth"),
                Golden.testdata().resolve("var-small/vae.pth"))) {
            VarSettings req = new VarSettings(2, 30, 0.9, false);
            int[] classes = {1, 4};
            Generation<VarDetails> serial = Parallel.serially(() -> var.generate(classes, 99, req));
            List<float[]> serialLogits = Parallel.serially(() -> logits(var, serial));
            @SuppressWarnings("unchecked")
            Generation<VarDetails>[] results = new Generation[3];
            List<List<float[]>> logits = new ArrayList<>(List.of(List.of(), List.of(), List.of()));
            results[0] = var.generate(classes, 99, req);
            logits.set(0, logits(var, results[0]));
            Thread[] threads = new Thread[2];
            Throwable[] failure = new Throwable[1];
            for (int i = 0; i < 2; i++) {
                int k = i + 1;
                threads[i] = new Thread(() -> {
                    try {
                        results[k] = var.generate(classes, 99, req);
                        logits.set(k, logits(var, results[k]));
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                });
                threads[i].start();
            }
            for (Thread t : threads) t.join();
            if (failure[0] != null) throw new AssertionError("a concurrent call failed", failure[0]);
            String[] names = {"all threads", "concurrent call 1", "concurrent call 2"};
            for (int r = 0; r < 3; r++) {
                Generation<VarDetails> other = results[r];
                for (int si = 0; si < 10; si++)
                    assertArrayEquals(
                            serial.details().tokens().get(si),
                            other.details().tokens().get(si),
                            names[r] + ": scale " + si);
                assertArrayEquals(serial.details().fhat(), other.details().fhat(), names[r] + ": f_hat");
                for (int b = 0; b < 2; b++)
                    assertArrayEquals(
                            serial.images().get(b).pixels(),
                            other.images().get(b).pixels(),
                            names[r] + ": image " + b);
                assertEquals(serialLogits.size(), logits.get(r).size());
                for (int si = 0; si < serialLogits.size(); si++) {
                    assertArrayEquals(
                            serialLogits.get(si), logits.get(r).get(si), names[r] + ": logits of scale " + si);
                }
            }
        }
    }

    /** The logits {@code [2B, l, V]} of every scale with the result's own tokens fed back, as the generator does. */
    static List<float[]> logits(VarPipeline p, Generation<VarDetails> r) {
        VarTransformer m = p.transformer();
        MultiScaleVqVae vae = p.vqvae();
        int n = r.images().size();
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
}
