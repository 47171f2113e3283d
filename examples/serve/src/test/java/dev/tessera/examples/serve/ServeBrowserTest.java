package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web page in a real browser: Debian's headless Chromium, driven over the DevTools protocol (the JDK's WebSocket
 * client), loads the page, types a class name, clicks Generate, and the test finds the image (the server's PNG
 * bytes), the progress events and the reproducing command. The screenshot is kept as
 * {@code target/serve-browser.png}. Without Chromium the test is skipped with a message, except in CI (CI=true),
 * where .ci/run installs it and its absence fails.
 */
class ServeBrowserTest {
    static final List<String> BROWSERS = List.of("/usr/bin/chromium-headless-shell", "/usr/bin/chromium");

    @TempDir
    Path profile;

    @Test
    void pageGeneratesWithLiveProgress() throws Exception {
        Path browser = BROWSERS.stream()
                .map(Path::of)
                .filter(Files::isExecutable)
                .findFirst()
                .orElse(null);
        if (browser == null) {
            String why = "no headless Chromium (" + String.join(" or ", BROWSERS)
                    + "): apt-get install chromium-headless-shell";
            if ("true".equals(System.getenv("CI"))) fail(why);
            System.err.println("ServeBrowserTest SKIPPED: " + why);
            Assumptions.abort(why);
        }
        try (TesseraServer server = Http.server(null, 1, 8, 4, 4096)) {
            Http http = new Http(server.start());
            Process chrome = new ProcessBuilder(
                            browser.toString(),
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--no-first-run",
                            "--remote-debugging-address=127.0.0.1",
                            "--remote-debugging-port=0",
                            "--user-data-dir=" + profile,
                            "--window-size=1000,700",
                            "about:blank")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (Cdp cdp = Cdp.connect(chrome)) {
                cdp.call("Page.navigate", Map.of("url", http.base + "/"));
                cdp.waitFor("document.body && document.body.dataset.ready === 'true'");
                // type the class name into the class box, then click Generate with the mouse
                cdp.eval("document.getElementById('class').focus()");
                cdp.call("Input.insertText", Map.of("text", "sneaker"));
                JsonNode box = Http.JSON.readTree(
                        cdp.eval("JSON.stringify(document.getElementById('generate').getBoundingClientRect())")
                                .asText());
                double x = box.get("x").asDouble() + box.get("width").asDouble() / 2;
                double y = box.get("y").asDouble() + box.get("height").asDouble() / 2;
                for (String type : List.of("mousePressed", "mouseReleased")) {
                    cdp.call(
                            "Input.dispatchMouseEvent",
                            Map.of("type", type, "x", x, "y", y, "button", "left", "clickCount", 1));
                }
                cdp.waitFor("(() => { const i = document.querySelector('img.result');"
                        + " return i !== null && i.complete && i.naturalWidth === 32; })()");
                String command = cdp.eval("document.querySelector('code.command').textContent")
                        .asText();
                assertTrue(command.startsWith("tessera generate var --class 7 --seed 0 "), command);
                JsonNode events = Http.JSON.readTree(
                        cdp.eval("JSON.stringify(window.tessera.events)").asText());
                assertTrue(
                        events.toString().contains("{\"stage\":\"scale\",\"done\":4,\"total\":4}"), events.toString());
                assertEquals("done", events.get(events.size() - 1).get("event").asText(), events.toString());
                // the bar moved with the events (the fraction it showed after each one), and ends full
                JsonNode bar = Http.JSON.readTree(
                        cdp.eval("JSON.stringify(window.tessera.bar)").asText());
                assertTrue(bar.size() >= 4 && bar.get(0).asDouble() > 0, bar.toString());
                assertTrue(bar.toString().contains("1"), bar.toString());
                assertEquals(
                        "1/1",
                        cdp.eval("document.getElementById('bar').value + '/' + document.getElementById('bar').max")
                                .asText());
                // the image the page shows is the server's PNG
                String b64 = cdp.evalAsync("fetch(document.querySelector('img.result').src).then(r => r.arrayBuffer())"
                                + ".then(b => btoa(String.fromCharCode(...new Uint8Array(b))))")
                        .asText();
                String image = events.get(events.size() - 1)
                        .get("data")
                        .get("images")
                        .get(0)
                        .asText();
                assertArrayEquals(http.get(image).body(), Base64.getDecoder().decode(b64));
                JsonNode shot = cdp.call("Page.captureScreenshot", Map.of("format", "png"));
                Path out = Path.of("target", "serve-browser.png");
                Files.write(out, Base64.getDecoder().decode(shot.get("data").asText()));
                System.out.println("ServeBrowserTest: screenshot in " + out.toAbsolutePath());
            } finally {
                chrome.destroy();
                if (!chrome.waitFor(10, TimeUnit.SECONDS)) chrome.destroyForcibly();
            }
        }
    }

    /** A minimal DevTools-protocol client: numbered calls on a page target's WebSocket, answers by id. */
    static final class Cdp implements WebSocket.Listener, AutoCloseable {
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        private final AtomicInteger ids = new AtomicInteger();
        private final StringBuilder partial = new StringBuilder();
        private WebSocket socket;

        /** Reads the DevTools port from the browser's standard error, then opens its page target. */
        static Cdp connect(Process chrome) throws Exception {
            Pattern p = Pattern.compile("DevTools listening on (ws://127\\.0\\.0\\.1:(\\d+)/\\S+)");
            CompletableFuture<String> port = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(chrome.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        Matcher m = p.matcher(line);
                        if (m.find()) port.complete(m.group(2));
                    }
                    port.completeExceptionally(new IllegalStateException("Chromium exited without a DevTools port"));
                } catch (Exception e) {
                    port.completeExceptionally(e);
                }
            });
            reader.setDaemon(true);
            reader.start();
            String devtools = "http://127.0.0.1:" + port.get(30, TimeUnit.SECONDS);
            HttpClient client = HttpClient.newHttpClient();
            String wsUrl = null;
            for (int i = 0; i < 100 && wsUrl == null; i++) {
                HttpResponse<String> list = client.send(
                        HttpRequest.newBuilder(URI.create(devtools + "/json/list"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                for (JsonNode t : Http.JSON.readTree(list.body())) {
                    if (t.get("type").asText().equals("page"))
                        wsUrl = t.get("webSocketDebuggerUrl").asText();
                }
                if (wsUrl == null) Thread.sleep(100);
            }
            if (wsUrl == null) throw new IllegalStateException("no page target at " + devtools);
            Cdp cdp = new Cdp();
            cdp.socket = client.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(wsUrl), cdp)
                    .get(10, TimeUnit.SECONDS);
            return cdp;
        }

        JsonNode call(String method, Map<String, Object> params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> answer = new CompletableFuture<>();
            pending.put(id, answer);
            ObjectNode msg = Http.JSON.createObjectNode();
            msg.put("id", id).put("method", method);
            msg.set("params", Http.JSON.valueToTree(params));
            socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
            JsonNode r = answer.get(30, TimeUnit.SECONDS);
            if (r.has("error")) throw new IllegalStateException(method + ": " + r.get("error"));
            return r.get("result");
        }

        /** A JavaScript expression's value (strings, numbers, booleans). */
        JsonNode eval(String expression) throws Exception {
            return value(call("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true)));
        }

        JsonNode evalAsync(String expression) throws Exception {
            return value(call(
                    "Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true)));
        }

        private static JsonNode value(JsonNode result) {
            if (result.has("exceptionDetails")) throw new IllegalStateException("page error: " + result);
            return result.get("result").path("value");
        }

        /** Polls an expression until it is true (30 s at most). */
        void waitFor(String expression) throws Exception {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (eval(expression).asBoolean(false)) return;
                Thread.sleep(50);
            }
            String error = eval("document.getElementById('error') ? document.getElementById('error').textContent : ''")
                    .asText();
            throw new AssertionError("the page never got to: " + expression + " (its error line: '" + error + "')");
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode msg = Http.JSON.readTree(partial.toString());
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f =
                                pending.remove(msg.get("id").asInt());
                        if (f != null) f.complete(msg);
                    }
                } catch (Exception e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public void close() {
            if (socket != null) socket.abort();
        }
    }
}
