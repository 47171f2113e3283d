package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bounded queue over HTTP: one generation at a time and one waiting; the next gets 429 with Retry-After; a
 * cancelled or abandoned generation frees its slot. Generations are held at their first step by the queue's test
 * latch, so that the states are certain.
 */
class ServeQueueTest {
    TesseraServer server;
    Http http;
    CountDownLatch hold;

    @BeforeEach
    void start() {
        server = Http.server(null, 1, 1, 4, 4096);
        http = new Http(server.start());
        hold = new CountDownLatch(1);
        server.queue().hold = hold;
    }

    @AfterEach
    void stop() {
        hold.countDown();
        server.close();
    }

    private String submit(int expectStatus) {
        HttpResponse<byte[]> r = http.post("/api/generations", "{\"classes\": [2], \"seed\": 1}");
        assertEquals(expectStatus, r.statusCode(), new String(r.body()));
        return expectStatus == 202 ? Http.json(r).get("id").asText() : null;
    }

    private String awaitStatus(String id, String status) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            JsonNode j = Http.json(http.get("/api/generations/" + id));
            if (j.get("status").asText().equals(status)) return status;
            Thread.sleep(10);
        }
        throw new AssertionError(id + " never became " + status + ": "
                + new String(http.get("/api/generations/" + id).body()));
    }

    @Test
    void fullQueueAnswers429WithRetryAfterAndCancelFreesTheSlot() throws Exception {
        String running = submit(202);
        awaitStatus(running, "running");
        String queued = submit(202);
        assertEquals(
                "queued",
                Http.json(http.get("/api/generations/" + queued)).get("status").asText());
        // one running, one waiting: the queue is full
        HttpResponse<byte[]> full = http.post("/api/generations", "{\"classes\": [2]}");
        Http.assertError(full, 429, null);
        int retry = Integer.parseInt(full.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retry >= 1 && retry <= 3600, "Retry-After " + retry);
        Http.assertError(http.post("/api/generate", "{\"classes\": [2]}"), 429, null);
        Http.assertError(http.post("/v1/images/generations", "{\"prompt\": \"bag\"}"), 429, null);
        // cancelling the waiting one frees its place at once
        assertEquals(202, http.delete("/api/generations/" + queued).statusCode());
        assertEquals("cancelled", awaitStatus(queued, "cancelled"));
        String next = submit(202);
        // cancelling the running one stops it at its next step
        assertEquals(202, http.delete("/api/generations/" + running).statusCode());
        hold.countDown();
        assertEquals("cancelled", http.awaitEnd(running).get("status").asText());
        assertEquals("done", http.awaitEnd(next).get("status").asText());
        Http.assertError(http.get("/api/generations/" + running + "/images/0.png"), 409, null);
        assertEquals(0, server.queue().pending());
    }

    @Test
    void eventStreamThatClosesCancelsItsGeneration() throws Exception {
        String id = submit(202);
        awaitStatus(id, "running");
        HttpResponse<InputStream> r = http.client.send(
                http.request("/api/generations/" + id + "/events?cancel_on_close=true")
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        InputStream in = r.body();
        assertTrue(in.read() >= 0); // the stream is open
        in.close(); // the client goes away
        // the server notices at its next heartbeat (100 ms in tests), then the generation stops at its next step
        awaitStatus(id, "running");
        for (int i = 0; i < 500 && !server.queue().get(id).cancelRequested(); i++) Thread.sleep(10);
        assertTrue(server.queue().get(id).cancelRequested(), "the closed stream did not cancel " + id);
        hold.countDown();
        assertEquals("cancelled", http.awaitEnd(id).get("status").asText());
        // while a stream without cancel_on_close leaves its generation alone
        server.queue().hold = null;
        String other = submit(202);
        assertEquals("done", http.awaitEnd(other).get("status").asText());
    }

    @Test
    void eventStreamOfACancelledGenerationEndsWithCancelled() throws Exception {
        String id = submit(202);
        awaitStatus(id, "running");
        http.delete("/api/generations/" + id);
        hold.countDown();
        var events = http.events(id, false);
        assertTrue(events.getLast().startsWith("cancelled "), events.toString());
    }
}
