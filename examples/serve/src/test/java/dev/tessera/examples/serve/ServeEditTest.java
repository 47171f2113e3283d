package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.examples.Main;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code POST /api/edits}: VAR's zero-shot editing of an uploaded picture gives the PNG bytes {@code tessera edit var}
 * writes for the command the server reports; every wrong field is a 400 naming it; an upload over the limit is 413.
 */
class ServeEditTest {
    static TesseraServer server;
    static Http http;
    /** A sneaker the bundled VAR drew, the picture every edit starts from. */
    static byte[] picture;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        server = Http.server(null, 1, 8, 4, 4096);
        http = new Http(server.start());
        HttpResponse<byte[]> r = http.post("/api/generate", "{\"classes\": [\"sneaker\"], \"seed\": 1}");
        assertEquals(200, r.statusCode());
        picture = r.body();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"box\": [0.5, 0, 1, 1], \"class\": \"ankle boot\", \"seed\": 3",
                "\"box\": [0.25, 0.25, 0.75, 0.75], \"outpaint\": true, \"class\": \"none\", \"seed\": 4, \"cfg\": 2,"
                        + " \"top_k\": 50, \"more_smooth\": true"
            })
    void pngBytesEqualEditVar(String fields) throws Exception {
        String body = "{\"model\": \"fmnist-var\", \"image\": \"data:image/png;base64," + b64(picture) + "\", " + fields
                + "}";
        HttpResponse<byte[]> r = http.post("/api/edits", body);
        assertEquals(202, r.statusCode(), new String(r.body()));
        String id = Http.json(r).get("id").asText();
        List<String> events = http.events(id, false);
        assertTrue(events.contains("progress {\"stage\":\"scale\",\"done\":4,\"total\":4}"), events.toString());
        JsonNode done = http.awaitEnd(id);
        assertEquals("done", done.get("status").asText(), done.toString());
        String command = done.get("command").asText();
        assertTrue(command.startsWith("tessera edit var --image input.png --box "), command);
        // the reported command on the uploaded picture, writing into a temporary folder
        Path input = dir.resolve("input.png"), out = dir.resolve("edited.png");
        Files.write(input, picture);
        List<String> args = new ArrayList<>(List.of(command.split(" ")));
        assertEquals("tessera", args.removeFirst());
        args.set(args.indexOf("input.png"), input.toString());
        args.set(args.indexOf("edited.png"), out.toString());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        assertEquals(0, Main.run(args, new PrintStream(log), new PrintStream(log)), log.toString());
        byte[] served = http.get(done.get("images").get(0).asText()).body();
        assertArrayEquals(Files.readAllBytes(out), served, command);
        assertFalse(Arrays.equals(picture, served), "the edit changed nothing");
    }

    private static String png(int side) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB), "png", bytes);
        return b64(bytes.toByteArray());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "\"box\": [0, 0, 1, 1], \"class\": 1 | image",
                "\"image\": \"%%%\", \"box\": [0, 0, 1, 1], \"class\": 1 | image",
                "\"image\": \"TEXT\", \"box\": [0, 0, 1, 1], \"class\": 1 | image",
                "\"image\": \"BIG\", \"box\": [0, 0, 1, 1], \"class\": 1 | image",
                "\"image\": \"data:image/png,abc\", \"box\": [0, 0, 1, 1], \"class\": 1 | image",
                "\"image\": \"PNG\", \"class\": 1 | box",
                "\"image\": \"PNG\", \"box\": [0, 0, 1], \"class\": 1 | box",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1.5], \"class\": 1 | box",
                "\"image\": \"PNG\", \"box\": [0.5, 0, 0.5, 1], \"class\": 1 | box",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1] | class",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": \"unicorn\" | class",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 10 | class",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 1, \"outpaint\": \"yes\" | outpaint",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 1, \"top_k\": -1 | top_k",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 1, \"mask\": \"x\" | mask",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 1, \"model\": \"fmnist-llamagen\" | model",
                "\"image\": \"PNG\", \"box\": [0, 0, 1, 1], \"class\": 1, \"model\": \"/etc/passwd\" | model",
            })
    void refusesBadFieldsNamingThem(String fields, String field) throws Exception {
        String body = "{"
                + fields.replace("\"PNG\"", "\"" + png(32) + "\"")
                        .replace("\"BIG\"", "\"" + png(64) + "\"")
                        .replace("\"TEXT\"", "\"" + b64("hello".getBytes(StandardCharsets.UTF_8)) + "\"")
                + "}";
        Http.assertError(http.post("/api/edits", body), 400, field);
    }

    @Test
    void uploadsOverTheLimitGet413() {
        // the test server's upload limit is 16 KiB; plain requests keep their 4 KiB limit
        String body = "{\"image\": \"" + "A".repeat(20_000) + "\", \"box\": [0, 0, 1, 1], \"class\": 1}";
        Http.assertError(http.post("/api/edits", body), 413, null);
        Http.assertError(
                http.post("/api/generations", "{\"classes\": [1], \"x\": \"" + "A".repeat(5000) + "\"}"), 413, null);
        JsonNode models = Http.json(http.get("/api/models"));
        assertEquals(16384, models.get("max_upload_bytes").asInt());
        assertTrue(models.get("models").get(0).get("can_edit").asBoolean());
        assertFalse(models.get("models").get(1).get("can_edit").asBoolean());
    }
}
