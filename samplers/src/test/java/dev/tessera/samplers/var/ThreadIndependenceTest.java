package dev.tessera.samplers.var;

import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.VarPipeline;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The same request gives bit-identical tokens and pixels on all threads and on one thread, and when called from
 * several threads at once (one of them then runs its kernels alone).
 */
class ThreadIndependenceTest {

    @Test
    void resultsDoNotDependOnThreadCount() throws Exception {
        try (VarPipeline var = VarPipeline.load(Golden.testdata().resolve("var-small/var.pth"), Golden.testdata().resolve("var-small/vae.pth"))) {
            VarRequest req = VarRequest.builder().classes(1, 4).seed(99).topK(30).topP(0.9).cfg(2).build();
            VarResult many = var.generate(req);
            VarResult one = Parallel.serially(() -> var.generate(req));
            VarResult[] concurrent = new VarResult[2];
            Thread[] threads = new Thread[2];
            for (int i = 0; i < 2; i++) {
                int k = i;
                threads[i] = new Thread(() -> concurrent[k] = var.generate(req));
                threads[i].start();
            }
            for (Thread t : threads) t.join();
            assertTrue(Parallel.threads() >= 1);
            for (VarResult other : new VarResult[] {one, concurrent[0], concurrent[1]}) {
                for (int si = 0; si < 10; si++) assertArrayEquals(many.tokens().get(si), other.tokens().get(si), "scale " + si);
                for (int b = 0; b < 2; b++) assertArrayEquals(many.images().get(b).pixels(), other.images().get(b).pixels());
            }
        }
    }
}
