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
 * bytes), the progress events and the reproducing command; then, on the edit tab, uploads that image, draws a box on
 * it with the mouse, picks another class and edits, and finds the edited image (the server's PNG bytes) and its
 * {@code tessera edit var} command. The screenshots are kept as {@code target/serve-browser.png} and
 * {@code target/serve-browser-edit.png}. Without Chromium the test is skipped with a message, except in CI (CI=true),
 * where .ci/run installs it and its absence fails.
 */
class ServeBrowserTest {
    static final List<String> BROWSERS = List.of("/usr/bin/chromium-headless-shell", "/usr/bin/chromium");

    @TempDir
    Path profile;

    @TempDir
    Path files;

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
                            "--window-size=1000,900",
                            "about:blank")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            try (Cdp cdp = Cdp.connect(chrome)) {
                cdp.call("Page.navigate", Map.of("url", http.base + "/"));
                cdp.waitFor("document.body && document.body.dataset.ready === 'true'");
                // type the class name into the class box, then click Generate with the mouse
                cdp.eval("document.getElementById('class').focus()");
                cdp.call("Input.insertText", Map.of("text", "sneaker"));
                cdp.click("generate");
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
                edit(cdp, http, http.get(image).body());
            } finally {
                chrome.destroy();
                if (!chrome.waitFor(10, TimeUnit.SECONDS)) chrome.destroyForcibly();
            }
        }
    }

    /**
     * The edit tab: uploads the sneaker through the file input, drags a box over its lower middle, types "ankle boot"
     * and clicks Edit; the page shows the server's edited PNG and the {@code tessera edit var} command.
     */
    private void edit(Cdp cdp, Http http, byte[] sneaker) throws Exception {
        cdp.click("tabEdit");
        Path picture = files.resolve("sneaker.png");
        Files.write(picture, sneaker);
        int root =
                cdp.call("DOM.getDocument", Map.of()).get("root").get("nodeId").asInt();
        int input = cdp.call("DOM.querySelector", Map.of("nodeId", root, "selector", "#picture"))
                .get("nodeId")
                .asInt();
        cdp.call("DOM.setFileInputFiles", Map.of("files", List.of(picture.toString()), "nodeId", input));
        cdp.waitFor("window.tessera.pictureBytes !== null");
        // drag from a quarter across and halfway down to three quarters across and the bottom edge
        JsonNode canvas = cdp.rect("canvas");
        double left = canvas.get("x").asDouble() + 1, top = canvas.get("y").asDouble() + 1; // inside its 1 px border
        double w = canvas.get("width").asDouble() - 2, h = canvas.get("height").asDouble() - 2;
        cdp.mouse("mousePressed", left + 0.25 * w, top + 0.5 * h);
        cdp.mouse("mouseMoved", left + 0.5 * w, top + 0.7 * h);
        cdp.mouse("mouseMoved", left + 0.75 * w, top + h - 0.5);
        cdp.mouse("mouseReleased", left + 0.75 * w, top + h - 0.5);
        JsonNode box = Http.JSON.readTree(
                cdp.eval("JSON.stringify(window.tessera.box)").asText());
        double[] want = {0.5, 0.25, 1, 0.75};
        for (int i = 0; i < 4; i++) assertEquals(want[i], box.get(i).asDouble(), 0.01, "box " + box);
        cdp.eval("document.getElementById('class').value = ''");
        cdp.eval("document.getElementById('class').focus()");
        cdp.call("Input.insertText", Map.of("text", "ankle boot"));
        cdp.click("edit");
        cdp.waitFor("(() => { const i = document.querySelector('.card.edited img.result');"
                + " return i !== null && i.complete && i.naturalWidth === 32; })()");
        String command = cdp.eval("document.querySelector('.card.edited code.command').textContent")
                .asText();
        assertTrue(command.startsWith("tessera edit var --image input.png --box 0.5"), command);
        assertTrue(command.contains(" --class 9 --seed 0 "), command);
        // the picture went up as its file, and the image the page shows is the server's edited PNG
        assertArrayEquals(
                sneaker,
                Base64.getDecoder()
                        .decode(cdp.eval("base64(window.tessera.pictureBytes)").asText()));
        JsonNode events = Http.JSON.readTree(
                cdp.eval("JSON.stringify(window.tessera.events)").asText());
        JsonNode last = events.get(events.size() - 1);
        assertEquals("done", last.get("event").asText());
        assertEquals(command, last.get("data").get("command").asText());
        String edited = cdp.evalAsync("fetch(document.querySelector('.card.edited img.result').src)"
                        + ".then(r => r.arrayBuffer()).then(b => btoa(String.fromCharCode(...new Uint8Array(b))))")
                .asText();
        byte[] served = http.get(last.get("data").get("images").get(0).asText()).body();
        assertArrayEquals(served, Base64.getDecoder().decode(edited));
        cdp.eval("window.scrollTo(0, 0)");
        JsonNode shot = cdp.call("Page.captureScreenshot", Map.of("format", "png"));
        Path out = Path.of("target", "serve-browser-edit.png");
        Files.write(out, Base64.getDecoder().decode(shot.get("data").asText()));
        System.out.println("ServeBrowserTest: edit screenshot in " + out.toAbsolutePath());
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

        /** An element's box in the window, by id (scrolled into view first). */
        JsonNode rect(String id) throws Exception {
            eval("document.getElementById('" + id + "').scrollIntoView({block: 'center'})");
            return Http.JSON.readTree(
                    eval("JSON.stringify(document.getElementById('" + id + "').getBoundingClientRect())")
                            .asText());
        }

        void mouse(String type, double x, double y) throws Exception {
            call(
                    "Input.dispatchMouseEvent",
                    Map.of("type", type, "x", x, "y", y, "button", "left", "buttons", 1, "clickCount", 1));
        }

        /** Clicks the middle of an element with the mouse. */
        void click(String id) throws Exception {
            JsonNode box = rect(id);
            double x = box.get("x").asDouble() + box.get("width").asDouble() / 2;
            double y = box.get("y").asDouble() + box.get("height").asDouble() / 2;
            mouse("mousePressed", x, y);
            mouse("mouseReleased", x, y);
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
