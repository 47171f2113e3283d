package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Who may use the server: loopback by default, a bearer token or an explicit --insecure for other addresses. */
class ServeSafetyTest {
    @Test
    void tokenGuardsTheApiButNotThePage() {
        try (TesseraServer server = Http.server("s3cret", 1, 4, 4, 4096)) {
            Http http = new Http(server.start());
            assertEquals(200, http.get("/").statusCode());
            assertEquals(200, http.get("/openapi.json").statusCode());
            Http.assertError(http.get("/api/models"), 401, null);
            Http.assertError(http.post("/api/generations", "{\"classes\": [1]}"), 401, null);
            Http.assertError(http.post("/v1/images/generations", "{\"prompt\": \"bag\"}"), 401, null);
            http.token = "wrong";
            Http.assertError(http.get("/api/models"), 401, null);
            assertEquals(
                    "Bearer",
                    http.get("/api/models")
                            .headers()
                            .firstValue("WWW-Authenticate")
                            .orElseThrow());
            http.token = "s3cret";
            assertEquals(200, http.get("/api/models").statusCode());
            assertEquals(200, http.post("/api/generate", "{\"classes\": [1]}").statusCode());
        }
    }

    /** Finished generations are kept for fetching only until {@code keep} newer ones have ended (bounded memory). */
    @Test
    void keepsOnlyTheLatestFinishedGenerations() {
        try (TesseraServer server = Http.server(null, 1, 4, 4, 4096, 2)) {
            Http http = new Http(server.start());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String id = Http.json(http.post("/api/generations", "{\"classes\": [" + i + "]}"))
                        .get("id")
                        .asText();
                http.awaitEnd(id);
                ids.add(id);
            }
            Http.assertError(http.get("/api/generations/" + ids.get(0)), 404, null);
            Http.assertError(http.get("/api/generations/" + ids.get(1) + "/images/0.png"), 404, null);
            assertEquals(
                    200,
                    http.get("/api/generations/" + ids.get(2) + "/images/0.png").statusCode());
            assertEquals(200, http.get("/api/generations/" + ids.get(3)).statusCode());
        }
    }

    @Test
    void otherAddressesNeedATokenOrInsecure() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                List.of("serve", "--host", "0.0.0.0", "--port", "0"), new PrintStream(out), new PrintStream(err));
        assertEquals(2, status);
        String line = err.toString().strip();
        assertTrue(line.startsWith("tessera: --host 0.0.0.0 is reachable from other machines"), line);
        assertFalse(line.contains("\n"), line);
        assertTrue(ServeCommand.loopback("127.0.0.1"));
        assertTrue(ServeCommand.loopback("localhost"));
        assertTrue(ServeCommand.loopback("::1"));
        assertFalse(ServeCommand.loopback("0.0.0.0"));
    }

    @Test
    void badOptionsAreOneLine() {
        for (List<String> args : List.of(
                List.of("serve", "--port", "70000"),
                List.of("serve", "--model", "x=var:/no/such.pth,/no/vae.pth"),
                List.of("serve", "--model", "nonsense"),
                List.of("serve", "--workers", "0"),
                List.of("serve", "--token", " "))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            int status = Main.run(args, new PrintStream(out), new PrintStream(err));
            assertEquals(2, status, args + ": " + err);
            String line = err.toString().strip();
            assertTrue(line.startsWith("tessera: ") && !line.contains("\n"), args + ": " + line);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(List.of("serve", "--help"), new PrintStream(out), new PrintStream(out)));
        assertTrue(out.toString().contains("--max-queue"), out.toString());
    }
}
