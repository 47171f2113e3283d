package dev.tessera.engine.ops;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The one thread pool of the engine, sized to the machine's cores ({@code -Dtessera.threads=N} overrides).
 *
 * <p>Work is split over output tiles only: every output element is computed by exactly one task, in a fixed order,
 * so results never depend on the number of threads.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("tessera.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS <= 1 ? null : new ForkJoinPool(THREADS,
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("tessera-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /** A body run over a half-open range of task indices. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /** A body run for one task index. */
    @FunctionalInterface
    public interface TaskBody {
        void run(int task);
    }

    /** Runs {@code body(i)} for i in [0, n); tasks run concurrently when the pool has more than one thread. */
    public static void forEach(int n, TaskBody body) {
        forRange(n, 1, (s, e) -> {
            for (int i = s; i < e; i++) body.run(i);
        });
    }

    /**
     * Splits [0, n) into contiguous ranges of at least {@code grain} indices (about 4 per thread) and runs them
     * concurrently. Runs inline when there is a single range or a single thread, or when called from a pool thread
     * (no nested parallelism).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int maxChunks = Math.max(1, n / Math.max(1, grain));
        int chunks = Math.min(maxChunks, THREADS * 4);
        if (POOL == null || chunks <= 1 || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Chunk(body, n, chunks, 0, chunks));
    }

    private static final class Chunk extends RecursiveAction {
        private final RangeBody body;
        private final int n, chunks, lo, hi;

        Chunk(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                int start = (int) ((long) n * lo / chunks);
                int end = (int) ((long) n * (lo + 1) / chunks);
                body.run(start, end);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Chunk(body, n, chunks, lo, mid), new Chunk(body, n, chunks, mid, hi));
        }
    }
}
