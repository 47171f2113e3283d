package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A bounded load on loopback: {@value #REQUESTS} synchronous requests from {@value #CLIENTS} concurrent clients on
 * the bundled VAR, through the default queue of {@value #QUEUE} (a client refused with 429 would come back after
 * Retry-After; with one request per client in flight none should be). No answer is a 5xx, every accepted request
 * gets its PNG, nothing is left queued, and the heap after the run is within 64 MiB of the heap before it.
 * Throughput and latency percentiles are printed (they are not asserted).
 */
class ServeLoadTest {
    static final int REQUESTS = 200, CLIENTS = 16, QUEUE = 16;

    @Test
    void manyClientsNo5xxEveryAcceptedJobCompletesHeapBounded() throws Exception {
        try (TesseraServer server = Http.server(null, 1, QUEUE, 4, 4096)) {
            Http http = new Http(server.start());
            for (int i = 0; i < 5; i++)
                assertEquals(
                        200, http.post("/api/generate", "{\"classes\": [1]}").statusCode());
            long heapBefore = usedHeapAfterGc();
            AtomicInteger next = new AtomicInteger(), refused = new AtomicInteger(), served = new AtomicInteger();
            long[] latencyNanos = new long[REQUESTS];
            List<String> bad = new ArrayList<>();
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            long t0 = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                done.add(clients.submit(() -> {
                    for (int i = next.getAndIncrement(); i < REQUESTS; i = next.getAndIncrement()) {
                        String body = "{\"classes\": [" + (i % 10) + "], \"seed\": " + i + "}";
                        long start = System.nanoTime();
                        for (int attempt = 0; attempt < 100; attempt++) {
                            HttpResponse<byte[]> r = http.post("/api/generate", body);
                            if (r.statusCode() == 429) {
                                refused.incrementAndGet();
                                long wait = Long.parseLong(
                                        r.headers().firstValue("Retry-After").orElseThrow());
                                sleep(TimeUnit.SECONDS.toMillis(wait));
                                continue;
                            }
                            boolean png = r.statusCode() == 200
                                    && r.headers()
                                            .firstValue("Content-Type")
                                            .orElse("")
                                            .equals("image/png");
                            if (!png) {
                                synchronized (bad) {
                                    bad.add(r.statusCode() + " " + new String(r.body()));
                                }
                            } else served.incrementAndGet();
                            break;
                        }
                        latencyNanos[i] = System.nanoTime() - start;
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(5, TimeUnit.MINUTES);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            clients.shutdown();
            assertTrue(bad.isEmpty(), "bad answers: " + bad);
            assertEquals(REQUESTS, served.get());
            assertEquals(0, server.queue().pending());
            long heapAfter = usedHeapAfterGc();
            Arrays.sort(latencyNanos);
            System.out.printf(
                    "ServeLoadTest: %d requests, %d clients, queue %d: %.1f s, %.1f images/s; latency p50 %.0f ms,"
                            + " p90 %.0f ms, p99 %.0f ms, max %.0f ms; %d refused with 429 and retried; heap %d -> %d"
                            + " MiB%n",
                    REQUESTS,
                    CLIENTS,
                    QUEUE,
                    seconds,
                    REQUESTS / seconds,
                    percentile(latencyNanos, 0.50),
                    percentile(latencyNanos, 0.90),
                    percentile(latencyNanos, 0.99),
                    latencyNanos[REQUESTS - 1] * 1e-6,
                    refused.get(),
                    heapBefore >> 20,
                    heapAfter >> 20);
            assertTrue(
                    heapAfter - heapBefore < 64L << 20,
                    "heap grew from " + (heapBefore >> 20) + " to " + (heapAfter >> 20) + " MiB");
        }
    }

    private static double percentile(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] * 1e-6;
    }

    private static long usedHeapAfterGc() {
        MemoryMXBean m = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
            sleep(100);
        }
        return m.getHeapMemoryUsage().getUsed();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
