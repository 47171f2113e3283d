package dev.tessera.examples.serve;

import dev.tessera.engine.TesseraException;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.var.VarEdit;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * A fixed number of generations at a time ({@code workers}) and a bounded number waiting ({@code maxQueue}); a
 * request beyond that is refused (the API answers 429 with Retry-After). Jobs are kept by id for fetching until
 * {@code keep} newer ones have ended. A cancelled job leaves the queue at once, or stops at its next progress step.
 */
final class JobQueue implements AutoCloseable {
    /** Thrown from the progress callback to stop a cancelled generation. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    private final ThreadPoolExecutor executor;
    private final int workers, keep;
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final Map<Job, Runnable> waiting = new LinkedHashMap<>();
    private final SecureRandom ids = new SecureRandom();
    private final AtomicInteger running = new AtomicInteger();
    private volatile double meanSeconds = 1;
    /** For tests: when set, a generation waits on it at its first progress step (so it is held while running). */
    volatile CountDownLatch hold;

    JobQueue(int workers, int maxQueue, int keep) {
        this.workers = workers;
        this.keep = keep;
        AtomicInteger n = new AtomicInteger();
        this.executor =
                new ThreadPoolExecutor(workers, workers, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(maxQueue), r -> {
                    Thread t = new Thread(r, "tessera-generate-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Queues a request; null when the queue is full. */
    Job submit(GenerationRequest request) {
        Job job;
        synchronized (this) {
            byte[] b = new byte[9];
            ids.nextBytes(b);
            job = new Job(HexFormat.of().formatHex(b), request);
            jobs.put(job.id, job);
        }
        Runnable task = () -> run(job);
        synchronized (this) {
            waiting.put(job, task);
        }
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            synchronized (this) {
                waiting.remove(job);
                jobs.remove(job.id);
            }
            return null;
        }
        return job;
    }

    synchronized Job get(String id) {
        return jobs.get(id);
    }

    /** The jobs kept, oldest first. */
    synchronized List<Job> jobs() {
        return List.copyOf(jobs.values());
    }

    /** Cancels a job: a queued one leaves the queue now, a running one stops at its next step. */
    void cancel(Job job) {
        job.requestCancel();
        Runnable task;
        synchronized (this) {
            task = waiting.remove(job);
        }
        if (task != null && executor.remove(task)) {
            job.cancelled();
            forgetOld();
        }
    }

    /** Jobs queued or running. */
    int pending() {
        return executor.getQueue().size() + running.get();
    }

    /** Seconds until a place is likely free: one job's recent mean time over the workers (at least 1). */
    int retryAfterSeconds() {
        double s = Math.ceil(meanSeconds / workers);
        return (int) Math.max(1, Math.min(3600, s));
    }

    private void run(Job job) {
        synchronized (this) {
            waiting.remove(job);
        }
        if (job.cancelRequested()) {
            job.cancelled();
            forgetOld();
            return;
        }
        running.incrementAndGet();
        // the job leaves the running count before its end is published, so that a client woken by the end (a
        // synchronous request, an event stream) never sees its own job still pending
        List<byte[]> pngs = null;
        String failure = null;
        boolean cancelled = false;
        try {
            job.running();
            pngs = generate(job);
        } catch (Cancelled e) {
            cancelled = true;
        } catch (TesseraException | IllegalArgumentException e) {
            failure = e.getMessage();
        } catch (OutOfMemoryError e) {
            failure = "out of memory (ask for fewer images per request)";
        } catch (RuntimeException e) {
            failure = "internal error: " + e;
        } finally {
            running.decrementAndGet();
        }
        if (cancelled) {
            job.cancelled();
        } else if (failure != null) {
            job.failed(failure);
        } else {
            job.done(pngs);
            double s = (job.endedNanos - job.startedNanos) * 1e-9;
            meanSeconds = 0.8 * meanSeconds + 0.2 * s;
        }
        forgetOld();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private List<byte[]> generate(Job job) {
        GenerationRequest r = job.request;
        Pipeline pipe = r.model().pipeline();
        Progress progress = (stage, done, total) -> {
            if (job.cancelRequested()) throw new Cancelled();
            job.progress(stage, done, total);
            CountDownLatch h = hold;
            if (h != null) awaitQuietly(h);
            if (job.cancelRequested()) throw new Cancelled();
        };
        Generation<?> g;
        if (r.edit() != null) {
            // as tessera edit var: the picture's tokens at every scale, then the masked generation
            VarPipeline var = (VarPipeline) pipe;
            int side = var.vqvae().imageSide();
            List<int[]> tokens = var.encode(r.edit().picture(), side, side);
            VarEdit edit = new VarEdit(tokens, r.edit().mask(), r.classes()[0]);
            g = var.edit(edit, r.seed(), (VarSettings) r.settings(), progress);
        } else {
            g = pipe.generate(r.classes(), r.seed(), (SamplingSettings) r.settings(), progress);
        }
        if (job.cancelRequested()) throw new Cancelled();
        List<byte[]> out = new ArrayList<>();
        for (GeneratedImage img : g.images()) out.add(png(img));
        return out;
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Cancelled();
        }
    }

    /** The PNG bytes {@code tessera generate} writes for the image (the same ImageIO writer, in memory). */
    static byte[] png(GeneratedImage img) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(bytes)) {
                if (!ImageIO.write(img.toBufferedImage(), "png", stream))
                    throw new IOException("no PNG writer available");
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops the oldest ended jobs beyond {@code keep}. */
    private synchronized void forgetOld() {
        int ended = 0;
        for (Job j : jobs.values()) if (j.state().ended()) ended++;
        for (Iterator<Job> it = jobs.values().iterator(); it.hasNext() && ended > keep; ) {
            if (it.next().state().ended()) {
                it.remove();
                ended--;
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        List<Job> all;
        synchronized (this) {
            all = new ArrayList<>(jobs.values());
        }
        for (Job j : all) j.requestCancel();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Job j : all) j.cancelled();
    }
}
