package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A synchronous client that goes away frees its place: over raw loopback sockets, a client closes its connection
 * while its synchronous request waits in the queue (the request leaves the queue at once) or while it runs (the
 * generation is cancelled, and the generation queued behind it runs). Generations are held at their first step by
 * the queue's test latch, so that nothing ends by itself while the test looks.
 */
class ServeDisconnectTest {
    TesseraServer server;
    Http http;
    int port;
    CountDownLatch hold;

    @BeforeEach
    void start() {
        server = Http.server(null, 1, 4, 4, 4096);
        port = server.start();
        http = new Http(port);
        hold = new CountDownLatch(1);
        server.queue().hold = hold;
    }

    @AfterEach
    void stop() {
        hold.countDown();
        server.close();
    }

    /** Sends a request on a new connection and leaves it waiting for the answer. */
    private Socket open(String path, String json) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(30_000);
        send(s, path, json);
        return s;
    }

    private static void send(Socket s, String path, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream o = s.getOutputStream();
        o.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                        + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        o.write(body);
        o.flush();
    }

    /** Reads one answer (status line, headers, a body of Content-Length bytes); returns the status line. */
    private static String answer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("connection closed in the answer's head: " + head);
            head.write(b);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:"))
                length = Integer.parseInt(line.substring(15).strip());
        }
        assertEquals(length, in.readNBytes(length).length, text);
        return text.split("\r\n")[0];
    }

    private Job newest() {
        return server.queue().jobs().getLast();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        for (int i = 0; i < 500 && !condition.getAsBoolean(); i++) Thread.sleep(10);
        assertTrue(condition.getAsBoolean(), what + " within 5 s");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {"/api/generate|{\"classes\": [2], \"seed\": 1}", "/v1/images/generations|{\"prompt\": \"bag\"}"})
    void closedSynchronousClientsFreeTheirPlaces(String path, String json) throws Exception {
        Socket running = open(path, json);
        await(() -> server.queue().pending() == 1, "the first request queued");
        Job first = newest();
        await(() -> first.state() == Job.State.RUNNING, "the first request running");
        String behind = Http.json(http.post("/api/generations", "{\"classes\": [3]}"))
                .get("id")
                .asText();
        Socket waiting = open(path, json);
        await(() -> server.queue().pending() == 3, "two requests queued behind the first");
        Job queued = newest();
        // a waiting synchronous client goes away: its request leaves the queue
        waiting.close();
        await(() -> server.queue().pending() == 2, "the closed client's queued request leaving the queue");
        assertEquals(Job.State.CANCELLED, queued.state());
        // the running one's client goes away: its generation is cancelled, the next one runs
        running.close();
        await(first::cancelRequested, "the closed client's running generation cancelled");
        hold.countDown();
        assertEquals("cancelled", http.awaitEnd(first.id).get("status").asText());
        assertEquals("done", http.awaitEnd(behind).get("status").asText());
        assertEquals(0, server.queue().pending());
    }

    /** A client that waits gets its answers, and the watch hands the connection back for the next request. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {"/api/generate|{\"classes\": [2], \"seed\": 1}", "/v1/images/generations|{\"prompt\": \"bag\"}"})
    void waitingClientKeepsItsConnection(String path, String json) throws Exception {
        server.queue().hold = null;
        try (Socket s = open(path, json)) {
            assertEquals("HTTP/1.1 200 OK", answer(s));
            send(s, path, json);
            assertEquals("HTTP/1.1 200 OK", answer(s));
        }
        List<Job> jobs = server.queue().jobs();
        assertEquals(2, jobs.size());
        for (Job j : jobs) assertEquals(Job.State.DONE, j.state());
    }
}
