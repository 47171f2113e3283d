package dev.tessera.engine.ops;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    @Test
    void prefersEqualChunksAWholeNumberPerThread() {
        int t = Parallel.threads();
        for (int n = 1; n <= 300; n++) {
            for (int grain : new int[] {1, 2, 3, 10}) {
                int max = Math.min(Math.max(1, n / grain), 4 * t), c = Parallel.chunks(n, grain);
                assertTrue(c >= 1 && c <= max, n + "/" + grain + ": " + c + " chunks");
                int best = -1;
                for (int k = max; k >= t && k > 1 && best < 0; k--) if (n % k == 0 && k % t == 0) best = k;
                assertEquals(best > 0 ? best : max, c, n + " indices, grain " + grain);
            }
        }
        if (t == 2) {
            assertEquals(6, Parallel.chunks(12, 1));   // not 8 chunks of 1 or 2 panels
            assertEquals(6, Parallel.chunks(36, 1));
            assertEquals(8, Parallel.chunks(256, 1));
            assertEquals(8, Parallel.chunks(13, 1));   // no equal split: at most 4 per thread
        }
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int n : new int[] {1, 5, 12, 13, 36, 257}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.forRange(n, 1, (s, e) -> {
                for (int i = s; i < e; i++) seen.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
        }
    }
}
