package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Same request, same seed: the server's PNG bytes equal those {@code tessera generate} writes, for the command the
 * server reports beside the images (run here through the command line's own entry point).
 */
class ServeMatchesCliTest {
    static TesseraServer server;
    static Http http;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        server = Http.server(null, 1, 8, 4, 4096);
        http = new Http(server.start());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"classes\": [\"sneaker\", \"trouser\"], \"seed\": 42}",
                "{\"classes\": [5], \"seed\": 9, \"cfg\": 1.25, \"top_k\": 20, \"top_p\": 0.9}",
                "{\"classes\": [8], \"seed\": 4, \"more_smooth\": true}",
                "{\"model\": \"fmnist-llamagen\", \"classes\": [\"coat\", 1], \"seed\": 3, \"temperature\": 0.9,"
                        + " \"top_k\": 100}",
                "{\"model\": \"fmnist-llamagen\", \"classes\": [6], \"seed\": 12, \"sampler\": \"lantern\","
                        + " \"lantern_delta\": 0.2}",
                "{\"model\": \"fmnist-llamagen\", \"classes\": [0], \"seed\": 8, \"sampler\": \"sjd\", \"cfg\": 1.5}",
                "{\"model\": \"fmnist-nar\", \"classes\": [\"bag\", 9], \"seed\": 5}",
                "{\"model\": \"fmnist-nar\", \"classes\": [2], \"seed\": 6, \"cfg\": 1.5, \"top_k\": 50,"
                        + " \"temperature\": 0.8, \"cfg_interval\": 10}",
                "{\"model\": \"tiny-flowar\", \"classes\": [3, 7], \"seed\": 1, \"steps\": 4, \"cfg\": 2}",
                "{\"model\": \"tiny-flowar\", \"classes\": [5], \"seed\": 2, \"steps\": 4,"
                        + " \"sampler\": \"euler-maruyama\", \"guidance\": 0.5}",
                "{\"model\": \"tiny-mar\", \"classes\": [3], \"seed\": 777, \"num_iter\": 4,"
                        + " \"diffusion_steps\": 5, \"cfg\": 3, \"cfg_schedule\": \"constant\"}",
                "{\"model\": \"tiny-mar\", \"classes\": [7], \"seed\": 2024, \"num_iter\": 8,"
                        + " \"diffusion_steps\": 5, \"sampler\": \"cspd\", \"gamma\": 2}"
            })
    void pngBytesEqualTheCommandLines(String request) throws Exception {
        HttpResponse<byte[]> r = http.post("/api/generations", request);
        assertEquals(202, r.statusCode(), new String(r.body()));
        JsonNode done = http.awaitEnd(Http.json(r).get("id").asText());
        assertEquals("done", done.get("status").asText(), done.toString());
        // the reported command, writing into a temporary folder
        List<String> args = new ArrayList<>(List.of(done.get("command").asText().split(" ")));
        assertEquals("tessera", args.removeFirst());
        int out = args.indexOf("--out");
        args.set(out + 1, dir.resolve("cli").toString() + "/");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(log), new PrintStream(log));
        assertEquals(0, status, log.toString());
        JsonNode images = done.get("images");
        for (int i = 0; i < images.size(); i++) {
            byte[] served = http.get(images.get(i).asText()).body();
            byte[] written = Files.readAllBytes(dir.resolve("cli").resolve(String.format("%03d.png", i)));
            assertArrayEquals(
                    written, served, "image " + i + " of " + done.get("command").asText());
        }
    }
}
