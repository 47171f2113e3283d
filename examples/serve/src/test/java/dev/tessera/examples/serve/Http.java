package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A JDK HTTP client on a test server's loopback port, with the JSON checks the tests share. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    final HttpClient client =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String base;
    String token;

    Http(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    /** A server on an ephemeral loopback port with the bundled models (loaded once per JVM) and these limits. */
    static TesseraServer server(String token, int workers, int maxQueue, int maxImages, int maxBody) {
        return server(token, workers, maxQueue, maxImages, maxBody, 64);
    }

    static TesseraServer server(String token, int workers, int maxQueue, int maxImages, int maxBody, int keep) {
        return new TesseraServer(
                new TesseraServer.Config(
                        "127.0.0.1", 0, token, workers, maxQueue, maxImages, maxBody, keep, 100, 16384),
                bundled());
    }

    private static Models models;

    /**
     * The bundled models, then the vendored random-weight FlowAR ({@code tiny-flowar}, flowar-small) and MAR with its
     * CSpD draft ({@code tiny-mar}, cspd-small), both on flowar-small's KL-16 VAE, configured as {@code --model}
     * would be.
     */
    static synchronized Models bundled() {
        if (models == null) models = Models.load(TESTDATA_MODELS, true, WeightPanels.Format.F32, Ops.cpu());
        return models;
    }

    static final Path TESTDATA = Path.of(System.getProperty("tessera.testdata", "../../testdata"))
            .toAbsolutePath()
            .normalize();

    static final List<String> TESTDATA_MODELS = List.of(
            "tiny-flowar=flowar:" + TESTDATA.resolve("flowar-small/flowar.pth") + ",vae="
                    + TESTDATA.resolve("flowar-small/vae.pth"),
            "tiny-mar=mar:" + TESTDATA.resolve("cspd-small/target.pth") + ",vae="
                    + TESTDATA.resolve("flowar-small/vae.pth") + ",draft=" + TESTDATA.resolve("cspd-small/draft.pth")
                    + ",heads=2,draft-heads=2");

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    HttpResponse<byte[]> send(HttpRequest.Builder b) {
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpResponse<byte[]> get(String path) {
        return send(request(path).GET());
    }

    HttpResponse<byte[]> delete(String path) {
        return send(request(path).DELETE());
    }

    HttpResponse<byte[]> post(String path, String json) {
        return send(request(path)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    static JsonNode json(HttpResponse<byte[]> r) {
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + new String(r.body()), e);
        }
    }

    /** Asserts a JSON error with this status naming this field (null: none), and no stack trace in the body. */
    static JsonNode assertError(HttpResponse<byte[]> r, int status, String field) {
        String body = new String(r.body());
        assertEquals(status, r.statusCode(), body);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), body);
        JsonNode e = json(r).get("error");
        assertEquals(status, e.get("status").asInt(), body);
        assertFalse(e.get("message").asText().isBlank(), body);
        if (field == null) assertFalse(e.has("field"), body);
        else assertEquals(field, e.path("field").asText(null), body);
        assertFalse(body.contains("\tat ") || body.contains("at dev.tessera") || body.contains("Exception:"), body);
        return e;
    }

    /** Polls a generation until it has ended (bounded). */
    JsonNode awaitEnd(String id) {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode j = json(get("/api/generations/" + id));
            String s = j.get("status").asText();
            if (s.equals("done") || s.equals("failed") || s.equals("cancelled")) return j;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("generation " + id + " did not end within 60 s");
    }

    /** The stream's events as "name data" lines, read until the stream ends. */
    List<String> events(String id, boolean cancelOnClose) throws Exception {
        HttpResponse<InputStream> r = client.send(
                request("/api/generations/" + id + "/events" + (cancelOnClose ? "?cancel_on_close=true" : ""))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertEquals(
                "text/event-stream",
                r.headers().firstValue("Content-Type").orElseThrow().split(";")[0]);
        List<String> out = new ArrayList<>();
        // read on another thread, so that a stream that never ends fails the test after 30 s instead of hanging it
        CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                String event = null, line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("event: ")) event = line.substring(7);
                    else if (line.startsWith("data: ")) {
                        assertNotNull(event, "data without an event name");
                        synchronized (out) {
                            out.add(event + " " + line.substring(6));
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        try {
            read.get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            r.body().close();
            synchronized (out) {
                throw new AssertionError("the event stream of " + id + " did not end within 30 s; it sent " + out);
            }
        }
        assertFalse(out.isEmpty());
        return out;
    }
}
