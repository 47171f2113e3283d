package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonTest {

    @Test
    void parsesAllValueTypes() {
        Object v = Json.parse(" {\"s\": \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00/\\/\", \"i\": -42,"
                + " \"big\": 123456789012345678901,"
                + " \"f\": 1.5e-3, \"z\": -0.0, \"t\": true, \"n\": null, \"l\": [1, [], {}], \"e\": {}} \n");
        Map<?, ?> m = assertInstanceOf(Map.class, v);
        assertEquals(List.of("s", "i", "big", "f", "z", "t", "n", "l", "e"), new ArrayList<>(m.keySet()), "order kept");
        assertEquals("a\"b\\c\n\u00e9\ud83d\ude00//", m.get("s"));
        assertEquals(-42L, m.get("i"));
        assertEquals(1.2345678901234568E20, m.get("big"));
        assertEquals(0.0015, m.get("f"));
        assertEquals(-0.0, m.get("z"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertNull(m.get("n"));
        assertEquals(List.of(1L, List.of(), Map.of()), m.get("l"));
    }

    @Test
    void rejectsInvalidTextWithPosition() {
        String[][] cases = {
            {"", "line 1, column 1: unexpected end of input"},
            {"{\"a\":1,}", "line 1, column 8: expected a member name"},
            {"[1 2]", "line 1, column 4: expected ',' or ']'"},
            {"{\n  \"a\": tru}", "line 2, column 8: unexpected character 't'"},
            {"01", "line 1, column 2: unexpected text after the JSON value"},
            {"1.", "digits must follow '.'"},
            {"\"a\u0001\"", "control character U+0001"},
            {"\"\\x\"", "invalid escape \\x"},
            {"{\"a\":1,\"a\":2}", "repeated member name \"a\""},
            {"NaN", "unexpected character 'N'"},
            {"[".repeat(600), "nesting deeper than 512 levels"},
        };
        for (String[] c : cases) {
            JsonException e = assertThrows(JsonException.class, () -> Json.parse(c[0]), c[0]);
            assertTrue(e.getMessage().startsWith("invalid JSON at line"), e.getMessage());
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }

    @Test
    void writesCompactAndPretty() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "tab\there \"q\" \u0001");
        m.put("ints", new int[] {1, -2});
        m.put("longs", List.of(3L, 4));
        m.put("floats", new float[] {0.1f, 2f});
        m.put("double", 1e21);
        m.put("nested", Map.of("x", List.of(Map.of())));
        m.put("none", null);
        m.put("flag", false);
        assertEquals(
                "{\"name\":\"tab\\there \\\"q\\\" \\u0001\",\"ints\":[1,-2],\"longs\":[3,4],\"floats\":[0.1,2.0],"
                        + "\"double\":1.0E21,\"nested\":{\"x\":[{}]},\"none\":null,\"flag\":false}",
                Json.write(m));
        assertEquals("""
                {
                  "ints": [1, -2],
                  "nested": {
                    "x": [
                      {}
                    ]
                  }
                }""", Json.writePretty(pick(m, "ints", "nested")));
    }

    @Test
    void writeThenParseRoundTrips() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "\u00e9\ud83d\ude00\n\\");
        m.put("l", new ArrayList<>(Arrays.asList(1L, -2.5, "x", null, true)));
        m.put("m", new LinkedHashMap<>(Map.of("k", List.of())));
        m.put("max", Long.MAX_VALUE);
        m.put("tiny", Double.MIN_VALUE);
        assertEquals(m, Json.parse(Json.write(m)));
        assertEquals(m, Json.parse(Json.writePretty(m)));
    }

    @Test
    void refusesWhatJsonCannotHold() {
        assertThrows(JsonException.class, () -> Json.write(Double.NaN));
        assertThrows(JsonException.class, () -> Json.write(List.of(Float.POSITIVE_INFINITY)));
        assertThrows(JsonException.class, () -> Json.write(Map.of(1, 2)));
        assertThrows(JsonException.class, () -> Json.write(new Object()));
        List<Object> self = new ArrayList<>();
        self.add(self);
        assertThrows(JsonException.class, () -> Json.write(self));
    }

    @Test
    void readAndWriteFiles(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("g.json");
        Json.write(file, Map.of("tokens", List.of(1, 2, 3)));
        assertEquals("{\n  \"tokens\": [1, 2, 3]\n}\n", Files.readString(file));
        assertEquals(Map.of("tokens", List.of(1L, 2L, 3L)), Json.read(file));

        Files.writeString(file, "{\"a\": [1,}");
        TesseraException e = assertThrows(TesseraException.class, () -> Json.read(file));
        assertTrue(e.getMessage().startsWith(file + ": invalid JSON at line 1, column 10"), e.getMessage());
        assertEquals(
                dir.resolve("none.json") + ": no such file",
                assertThrows(TesseraException.class, () -> Json.read(dir.resolve("none.json")))
                        .getMessage());
    }

    private static Map<String, Object> pick(Map<String, Object> m, String... keys) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : keys) out.put(k, m.get(k));
        return out;
    }
}
