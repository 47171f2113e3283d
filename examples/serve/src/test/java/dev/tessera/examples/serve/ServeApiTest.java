package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JSON API over loopback HTTP (JDK client): every endpoint and the success paths of generating. */
class ServeApiTest {
    static TesseraServer server;
    static Http http;

    @BeforeAll
    static void start() {
        server = Http.server(null, 1, 8, 4, 4096);
        http = new Http(server.start());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void listsModelsWithClassNamesAndDefaults() {
        HttpResponse<byte[]> r = http.get("/api/models");
        assertEquals(200, r.statusCode());
        JsonNode models = Http.json(r).get("models");
        assertEquals("fmnist-var", models.get(0).get("name").asText());
        assertEquals("var", models.get(0).get("family").asText());
        assertEquals("fmnist-llamagen", models.get(1).get("name").asText());
        assertEquals(10, models.get(0).get("classes").size());
        assertEquals("sneaker", models.get(0).get("classes").get(7).get("name").asText());
        assertEquals(7, models.get(0).get("classes").get(7).get("index").asInt());
        assertEquals(3.0, models.get(0).get("defaults").get("cfg").asDouble());
        assertEquals("ar", models.get(1).get("defaults").get("sampler").asText());
        assertTrue(models.get(1).get("has_draft").asBoolean());
        assertEquals(32, models.get(0).get("image_size").asInt());
    }

    @Test
    void servesThePageTheDescriptionAndHealth() {
        HttpResponse<byte[]> page = http.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(new String(page.body()).contains("<title>Tessera</title>"));
        assertEquals(200, http.get("/api/health").statusCode());
        assertEquals("ok", Http.json(http.get("/api/health")).get("status").asText());
    }

    /** The OpenAPI file describes exactly the routes the server answers. */
    @Test
    void openApiListsEveryRoute() {
        HttpResponse<byte[]> r = http.get("/openapi.json");
        assertEquals(200, r.statusCode());
        JsonNode spec = Http.json(r);
        assertEquals("3.0.3", spec.get("openapi").asText());
        Set<String> paths = new TreeSet<>();
        spec.get("paths").fieldNames().forEachRemaining(paths::add);
        assertEquals(
                new TreeSet<>(List.of(
                        "/",
                        "/openapi.json",
                        "/api/health",
                        "/api/models",
                        "/api/generations",
                        "/api/generations/{id}",
                        "/api/generations/{id}/events",
                        "/api/generations/{id}/images/{file}",
                        "/api/generate",
                        "/api/edits",
                        "/v1/images/generations")),
                paths);
    }

    @Test
    void generatesFollowsProgressAndServesThePngs() throws Exception {
        HttpResponse<byte[]> r = http.post("/api/generations", "{\"classes\": [\"sneaker\", 3], \"seed\": 7}");
        assertEquals(202, r.statusCode(), new String(r.body()));
        JsonNode job = Http.json(r);
        String id = job.get("id").asText();
        assertEquals(
                "/api/generations/" + id, r.headers().firstValue("Location").orElseThrow());
        List<String> events = http.events(id, false);
        // VAR on the bundled model: scales 1..4 of 4, then the two images decoded, then done
        assertTrue(events.contains("progress {\"stage\":\"scale\",\"done\":1,\"total\":4}"), events.toString());
        assertTrue(events.contains("progress {\"stage\":\"scale\",\"done\":4,\"total\":4}"), events.toString());
        assertTrue(events.contains("progress {\"stage\":\"decode\",\"done\":2,\"total\":2}"), events.toString());
        String last = events.getLast();
        assertTrue(last.startsWith("done "), events.toString());
        JsonNode done = Http.JSON.readTree(last.substring(5));
        assertEquals("done", done.get("status").asText());
        assertEquals(2, done.get("images").size());
        assertEquals("sneaker", done.get("classes").get(0).get("name").asText());
        assertEquals(
                "tessera generate var --class 7 --class 3 --seed 7 --cfg 3.0 --top-k 0 --top-p 0.0 --out images/",
                done.get("command").asText());
        for (JsonNode path : done.get("images")) {
            HttpResponse<byte[]> png = http.get(path.asText());
            assertEquals(200, png.statusCode());
            assertEquals("image/png", png.headers().firstValue("Content-Type").orElseThrow());
            var img = ImageIO.read(new ByteArrayInputStream(png.body()));
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
        }
        // a stream opened after the end replays the final event
        List<String> again = http.events(id, false);
        assertTrue(again.getLast().startsWith("done "), again.toString());
    }

    @Test
    void llamaGenReportsTokensAndAcceptsItsSamplers() throws Exception {
        HttpResponse<byte[]> r =
                http.post("/api/generations", "{\"model\": \"fmnist-llamagen\", \"classes\": [\"bag\"], \"seed\": 3}");
        assertEquals(202, r.statusCode(), new String(r.body()));
        List<String> events = http.events(Http.json(r).get("id").asText(), false);
        // plain AR on the bundled 8x8 grid: token t of 64
        assertTrue(events.contains("progress {\"stage\":\"token\",\"done\":64,\"total\":64}"), events.toString());
        assertTrue(events.getLast().startsWith("done "), events.toString());
        r = http.post(
                "/api/generations",
                "{\"model\": \"fmnist-llamagen\", \"classes\": [\"bag\"], \"sampler\": \"sjd\", \"sjd_window\": 4}");
        events = http.events(Http.json(r).get("id").asText(), false);
        assertTrue(events.contains("progress {\"stage\":\"image\",\"done\":1,\"total\":1}"), events.toString());
        JsonNode done = Http.JSON.readTree(events.getLast().substring(5));
        assertTrue(done.get("command").asText().contains("--sampler sjd --sjd-window 4"), done.toString());
    }

    /** NAR's passes, FlowAR's solver steps (every scale's) and MAR's iterations arrive as progress events. */
    @Test
    void otherFamiliesReportTheirSteps() throws Exception {
        List<String> nar = followed("{\"model\": \"fmnist-nar\", \"classes\": [\"bag\"], \"seed\": 1}");
        // the bundled 8x8 grid: 15 anti-diagonals, one pass each
        assertTrue(nar.contains("progress {\"stage\":\"step\",\"done\":15,\"total\":15}"), nar.toString());
        // 4 solver steps give 4 Euler evaluations per scale (1, 2, 4, 8, 16 tokens a side): 20 in all
        List<String> flow = followed("{\"model\": \"tiny-flowar\", \"classes\": [3], \"steps\": 4}");
        for (int i = 1; i <= 20; i++)
            assertTrue(flow.contains("progress {\"stage\":\"flow\",\"done\":" + i + ",\"total\":20}"), i + " " + flow);
        List<String> mar =
                followed("{\"model\": \"tiny-mar\", \"classes\": [3], \"num_iter\": 3, \"diffusion_steps\": 4}");
        for (int i = 1; i <= 3; i++)
            assertTrue(mar.contains("progress {\"stage\":\"step\",\"done\":" + i + ",\"total\":3}"), mar.toString());
        JsonNode models = Http.json(http.get("/api/models")).get("models");
        JsonNode tinyMar = models.get(4);
        assertEquals("tiny-mar", tinyMar.get("name").asText());
        assertTrue(tinyMar.get("has_draft").asBoolean());
        assertEquals(256, tinyMar.get("image_size").asInt());
        assertEquals("linear", tinyMar.get("defaults").get("cfg_schedule").asText());
        assertEquals("euler", models.get(3).get("defaults").get("sampler").asText());
        assertEquals(3.0, models.get(2).get("defaults").get("cfg").asDouble()); // the bundled NAR's card
    }

    private List<String> followed(String body) throws Exception {
        HttpResponse<byte[]> r = http.post("/api/generations", body);
        assertEquals(202, r.statusCode(), new String(r.body()));
        List<String> events = http.events(Http.json(r).get("id").asText(), false);
        assertTrue(events.getLast().startsWith("done "), events.toString());
        return events;
    }

    /** The synchronous form answers with the same PNG bytes as the queued one. */
    @Test
    void synchronousFormReturnsThePng() {
        String body = "{\"classes\": [\"dress\"], \"seed\": 11, \"cfg\": 2.0}";
        HttpResponse<byte[]> sync = http.post("/api/generate", body);
        assertEquals(200, sync.statusCode(), new String(sync.body()));
        assertEquals("image/png", sync.headers().firstValue("Content-Type").orElseThrow());
        assertEquals(
                "tessera generate var --class 3 --seed 11 --cfg 2.0 --top-k 0 --top-p 0.0 --out image.png",
                sync.headers().firstValue("X-Tessera-Command").orElseThrow());
        String id = Http.json(http.post("/api/generations", body)).get("id").asText();
        JsonNode done = http.awaitEnd(id);
        assertArrayEquals(
                sync.body(), http.get(done.get("images").get(0).asText()).body());
    }

    @Test
    void openAiFormDrawsThePromptsClass() throws Exception {
        HttpResponse<byte[]> r = http.post(
                "/v1/images/generations",
                "{\"prompt\": \"Ankle boot\", \"n\": 2, \"size\": \"32x32\", \"seed\": 5, \"user\": \"u\"}");
        assertEquals(200, r.statusCode(), new String(r.body()));
        JsonNode data = Http.json(r).get("data");
        assertEquals(2, data.size());
        assertEquals("ankle boot (class 9)", data.get(0).get("revised_prompt").asText());
        byte[] first = Base64.getDecoder().decode(data.get(0).get("b64_json").asText());
        // the same images as the native API's request for class 9 twice with seed 5
        String id = Http.json(http.post("/api/generations", "{\"classes\": [9, 9], \"seed\": 5}"))
                .get("id")
                .asText();
        JsonNode done = http.awaitEnd(id);
        assertArrayEquals(first, http.get(done.get("images").get(0).asText()).body());
        // response_format url gives fetchable links
        JsonNode url = Http.json(http.post(
                        "/v1/images/generations", "{\"prompt\": \"9\", \"seed\": 5, \"response_format\": \"url\"}"))
                .get("data")
                .get(0);
        String link = url.get("url").asText();
        assertTrue(link.startsWith(http.base + "/api/generations/"), link);
        assertEquals(200, http.get(link.substring(http.base.length())).statusCode());
    }

    @ParameterizedTest(name = "{0} {1} -> {2} {3}")
    @CsvSource(
            delimiter = '|',
            value = {
                "/api/generations | {\"classes\": [1], \"cfg\": \"high\"} | 400 | cfg",
                "/api/generations | {\"classes\": [1], \"cfg\": 1e9} | 400 | cfg",
                "/api/generations | {\"classes\": [1], \"top_k\": -1} | 400 | top_k",
                "/api/generations | {\"classes\": [1], \"top_k\": 2.5} | 400 | top_k",
                "/api/generations | {\"classes\": [1], \"top_p\": 1.5} | 400 | top_p",
                "/api/generations | {\"classes\": [1], \"seed\": \"x\"} | 400 | seed",
                "/api/generations | {\"classes\": [1], \"seed\": 99999999999999999999} | 400 | seed",
                "/api/generations | {\"classes\": [1], \"more_smooth\": 1} | 400 | more_smooth",
                "/api/generations | {\"seed\": 1} | 400 | classes",
                "/api/generations | {\"classes\": []} | 400 | classes",
                "/api/generations | {\"classes\": 3} | 400 | classes",
                "/api/generations | {\"classes\": [10]} | 400 | classes",
                "/api/generations | {\"classes\": [\"unicorn\"]} | 400 | classes",
                "/api/generations | {\"classes\": [1, 2, 3, 4, 5]} | 400 | classes",
                "/api/generations | {\"classes\": [1], \"model\": \"/etc/passwd\"} | 400 | model",
                "/api/generations | {\"classes\": [1], \"modle\": \"fmnist-var\"} | 400 | modle",
                "/api/generations | {\"classes\": [1], \"sampler\": \"sjd\"} | 400 | sampler",
                "/api/generations | {\"model\": \"fmnist-llamagen\", \"classes\": [1], \"sampler\": \"x\"} | 400 | "
                        + "sampler",
                "/api/generations | {\"model\": \"fmnist-llamagen\", \"classes\": [1], \"top_p\": 0} | 400 | top_p",
                "/api/generations | {\"model\": \"fmnist-llamagen\", \"classes\": [1], \"gamma\": 0} | 400 | gamma",
                "/api/generations | {\"model\": \"fmnist-llamagen\", \"classes\": [1], \"sjd_window\": 9999} | 400 | "
                        + "sjd_window",
                "/api/generations | {\"model\": \"fmnist-llamagen\", \"classes\": [1], \"more_smooth\": true} | 400 | "
                        + "more_smooth",
                "/api/generations | {\"model\": \"fmnist-nar\", \"classes\": [1], \"sampler\": \"sjd\"} | 400 | "
                        + "sampler",
                "/api/generations | {\"model\": \"fmnist-nar\", \"classes\": [1], \"top_p\": 0} | 400 | top_p",
                "/api/generations | {\"model\": \"fmnist-nar\", \"classes\": [1], \"cfg_interval\": -2} | 400 | "
                        + "cfg_interval",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"cfg\": 0.5} | 400 | cfg",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"steps\": 1} | 400 | steps",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"steps\": 9999} | 400 | steps",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"guidance\": 2} | 400 | guidance",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"sampler\": \"ddim\"} | 400 | "
                        + "sampler",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1], \"top_k\": 5} | 400 | top_k",
                "/api/generations | {\"model\": \"tiny-flowar\", \"classes\": [1000]} | 400 | classes",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"num_iter\": 0} | 400 | num_iter",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"num_iter\": 257} | 400 | num_iter",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"diffusion_steps\": 1001} | 400 | "
                        + "diffusion_steps",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"seed\": -1} | 400 | seed",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"temperature\": 0} | 400 | "
                        + "temperature",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"cfg_schedule\": \"cosine\"} | 400 | "
                        + "cfg_schedule",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"gamma\": 2} | 400 | gamma",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"sampler\": \"x\"} | 400 | sampler",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"sampler\": \"cspd\", \"cspd_rule\": "
                        + "\"maybe\"} | 400 | cspd_rule",
                "/api/generations | {\"model\": \"tiny-mar\", \"classes\": [1], \"top_p\": 0.5} | 400 | top_p",
                "/api/generations | [1, 2] | 400 |",
                "/api/generations | {\"classes\": [1]} trailing | 400 |",
                "/api/generations | {\"classes\": [1], | 400 |",
                "/api/generations | '' | 400 |",
                "/api/generate | {\"classes\": [1, 2]} | 400 | classes",
                "/v1/images/generations | {\"n\": 1} | 400 | prompt",
                "/v1/images/generations | {\"prompt\": \"unicorn\"} | 400 | prompt",
                "/v1/images/generations | {\"prompt\": \"bag\", \"n\": 0} | 400 | n",
                "/v1/images/generations | {\"prompt\": \"bag\", \"size\": \"1024x1024\"} | 400 | size",
                "/v1/images/generations | {\"prompt\": \"bag\", \"response_format\": \"gif\"} | 400 | response_format",
                "/v1/images/generations | {\"prompt\": \"bag\", \"model\": \"dall-e-3\"} | 400 | model",
            })
    void refusesBadFieldsNamingThem(String path, String body, int status, String field) {
        Http.assertError(http.post(path, body), status, field);
    }

    @Test
    void refusesWhatIsNotJsonOrTooLarge() {
        Http.assertError(
                http.send(http.request("/api/generations")
                        .header("Content-Type", "text/plain")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"classes\": [1]}"))),
                415,
                null);
        String big = "{\"classes\": [1], \"pad\": \"" + "x".repeat(5000) + "\"}";
        Http.assertError(http.post("/api/generations", big), 413, null);
        Http.assertError(http.post("/v1/images/generations", big), 413, null);
    }

    @Test
    void answersUnknownThingsWithJson404() {
        Http.assertError(http.get("/api/nothing"), 404, null);
        Http.assertError(http.get("/api/generations/0123abcd"), 404, null);
        Http.assertError(http.get("/api/generations/../../etc/passwd"), 404, null);
        Http.assertError(http.delete("/api/generations/0123abcd"), 404, null);
        Http.assertError(http.get("/api/generations/0123abcd/events"), 404, null);
        String id = Http.json(http.post("/api/generations", "{\"classes\": [0]}"))
                .get("id")
                .asText();
        http.awaitEnd(id);
        Http.assertError(http.get("/api/generations/" + id + "/images/1.png"), 404, null);
        Http.assertError(http.get("/api/generations/" + id + "/images/x.png"), 404, null);
        assertEquals(200, http.get("/api/generations/" + id + "/images/0.png").statusCode());
    }
}
