package dev.tessera.engine.ops;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The engine's worker threads, sized to the machine's cores ({@code -Dtessera.threads=N} overrides).
 *
 * <p>A parallel section is cut into chunks that the calling thread and the workers claim in turn. Workers spin for
 * a short while after each section before they park: token-by-token decoding runs thousands of short sections a
 * second, and waking a parked thread costs more than most of them. Work is split over output tiles only, so every
 * output element is computed by exactly one chunk, in a fixed order: results never depend on the number of threads.
 *
 * <p>Sections do not nest: a section started from inside another (or while another thread's section holds the
 * workers) runs on the calling thread alone.
 */
public final class Parallel {
    private static final int THREADS = Math.max(
            1, Integer.getInteger("tessera.threads", Runtime.getRuntime().availableProcessors()));
    /** How long an idle worker keeps looking for work before it parks. */
    private static final long SPIN_NANOS = Long.getLong("tessera.spinMicros", 200) * 1000;

    private static final ReentrantLock SECTION = new ReentrantLock();
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);
    private static final Worker[] WORKERS = new Worker[THREADS - 1];
    private static volatile Job current;

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = new Worker("tessera-" + (i + 1));
            WORKERS[i].start();
        }
    }

    private Parallel() {}

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

    /** Runs {@code work} with every parallel section on the calling thread alone (e.g. to compare with 1 thread). */
    public static <T> T serially(Supplier<T> work) {
        boolean was = INSIDE.get();
        INSIDE.set(true);
        try {
            return work.get();
        } finally {
            INSIDE.set(was);
        }
    }

    /** Runs {@code body(i)} for i in [0, n), concurrently when there are several threads. */
    public static void forEach(int n, TaskBody body) {
        forRange(n, 1, (s, e) -> {
            for (int i = s; i < e; i++) body.run(i);
        });
    }

    /**
     * Splits [0, n) into contiguous ranges of at least {@code grain} indices (up to 4 per thread, see {@link #chunks})
     * and runs them concurrently; inline when there is a single range or a single thread, or when nested.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = chunks(n, grain);
        if (THREADS == 1 || chunks <= 1 || INSIDE.get() || !SECTION.tryLock()) {
            body.run(0, n);
            return;
        }
        try {
            Job job = new Job(body, n, chunks);
            current = job;
            for (Worker w : WORKERS) LockSupport.unpark(w);
            INSIDE.set(true);
            try {
                job.work();
            } finally {
                INSIDE.set(false);
            }
            job.awaitDone();
            current = null;
            if (job.failure != null) {
                if (job.failure instanceof RuntimeException re) throw re;
                if (job.failure instanceof Error err) throw err;
                throw new IllegalStateException(job.failure);
            }
        } finally {
            SECTION.unlock();
        }
    }

    /**
     * How many chunks [0, n) is cut into: at most 4 per thread and at least {@code grain} indices each, preferring a
     * count that divides n into equal chunks, a whole number per thread and at least half the most (12 panels in 8
     * chunks of 1 or 2 leave one thread idle for the last chunk: 7 units of time instead of 6; in 6 chunks of 2
     * neither waits; a thread that is slow to wake still leaves the others several chunks to take).
     */
    static int chunks(int n, int grain) {
        return chunks(n, grain, THREADS);
    }

    static int chunks(int n, int grain, int threads) {
        int max = Math.min(Math.max(1, n / Math.max(1, grain)), threads * 4);
        for (int c = max; c >= Math.max(threads, (max + 1) / 2) && c > 1; c--) {
            if (n % c == 0 && c % threads == 0) return c;
        }
        return max;
    }

    private static final class Job {
        final RangeBody body;
        final int n, chunks;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                try {
                    if (failure == null) body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks));
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitDone() {
            while (done.get() < chunks) Thread.onSpinWait();
        }
    }

    private static final class Worker extends Thread {
        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        @Override
        public void run() {
            INSIDE.set(true);
            Job last = null;
            long idleSince = System.nanoTime();
            while (true) {
                Job job = current;
                if (job != null && job != last) {
                    job.work();
                    last = job;
                    idleSince = System.nanoTime();
                } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                    idleSince = System.nanoTime();
                }
            }
        }
    }
}
