package dev.tessera.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void prefersEqualChunksAWholeNumberPerThread() {
        // 2 threads: 12 or 36 panels in 6 equal chunks (8 chunks of 1 or 2 would leave one thread the last one)
        assertEquals(6, Parallel.chunks(12, 1, 2));
        assertEquals(6, Parallel.chunks(36, 1, 2));
        assertEquals(8, Parallel.chunks(32, 1, 2));
        assertEquals(8, Parallel.chunks(256, 1, 2));
        assertEquals(4, Parallel.chunks(36, 9, 2)); // at least 9 per chunk: 4 of 9
        assertEquals(2, Parallel.chunks(36, 10, 2)); // 3 chunks at most (of 12): 2 of 18, one per thread
        // no equal split into at least half the most: up to 4 chunks per thread, so a late thread does not hold the
        // rest
        assertEquals(8, Parallel.chunks(13, 1, 2));
        assertEquals(8, Parallel.chunks(22, 1, 2)); // not 2 of 11
        assertEquals(1, Parallel.chunks(5, 10, 2));
        // other thread counts
        assertEquals(12, Parallel.chunks(36, 1, 4));
        assertEquals(16, Parallel.chunks(64, 1, 4));
        assertEquals(16, Parallel.chunks(50, 1, 4)); // no multiple of 4 from 8 to 16 divides 50
        assertEquals(3, Parallel.chunks(12, 4, 3));
        assertEquals(4, Parallel.chunks(7, 1, 1));
        for (int t = 1; t <= 16; t++) {
            for (int n = 1; n <= 300; n++) {
                int c = Parallel.chunks(n, 1, t);
                assertTrue(c >= 1 && c <= Math.min(n, 4 * t), t + " threads, " + n + ": " + c);
            }
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
