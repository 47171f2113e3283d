package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal JSON (RFC 8259) reader and writer with no dependencies, for safetensors headers, golden files and
 * token dumps.
 *
 * <p>Parsing gives plain Java values: objects become {@link LinkedHashMap}{@code <String,Object>} (member order
 * kept; a repeated member name is an error), arrays become {@link ArrayList}, strings {@link String}, integers
 * {@link Long} (or {@link Double} when they do not fit a long), other numbers {@link Double}, {@code true}/{@code
 * false} {@link Boolean} and {@code null} Java {@code null}.
 *
 * <p>Writing accepts those types plus any {@link Map} with string keys, any {@link Iterable}, object and primitive
 * arrays, and every {@link Number} (non-finite floating values are rejected, JSON cannot hold them).
 */
public final class Json {
    /** Nesting limit: deeper input is far more likely an attack on the parser's stack than real data. */
    private static final int MAX_DEPTH = 512;

    private Json() {}

    /** Parses one JSON value (surrounding whitespace allowed); a {@link JsonException} with line and column. */
    public static Object parse(String text) {
        return new Parser(text).parseDocument();
    }

    /** Reads and parses a UTF-8 JSON file; errors are a {@link TesseraException} naming the file. */
    public static Object read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TesseraException(file + ": no such file");
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot read (" + e + ")", e);
        }
        try {
            return parse(decodeUtf8(bytes));
        } catch (JsonException e) {
            throw new TesseraException(file + ": " + e.getMessage(), e);
        }
    }

    /** Strict UTF-8 decoding: malformed bytes are an error rather than silently replaced characters. */
    static String decodeUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new JsonException("invalid JSON: the text is not valid UTF-8");
        }
    }

    /** Compact JSON text of {@code value}, no whitespace. */
    public static String write(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, false).value(value, 0);
        return out.toString();
    }

    /**
     * Indented JSON text of {@code value} (two spaces), for files people read. Arrays holding only scalars stay on
     * one line so that token lists and shapes remain compact.
     */
    public static String writePretty(Object value) {
        StringBuilder out = new StringBuilder();
        new Writer(out, true).value(value, 0);
        return out.toString();
    }

    /** Writes {@link #writePretty} of {@code value} plus a final newline to {@code file} as UTF-8. */
    public static void write(Path file, Object value) {
        String text = writePretty(value) + "\n";
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot write (" + e + ")", e);
        }
    }

    /** Recursive-descent parser over the whole text. */
    private static final class Parser {
        private final String text;
        private int pos;

        Parser(String text) {
            this.text = text;
        }

        Object parseDocument() {
            skipWhitespace();
            Object value = parseValue(0);
            skipWhitespace();
            if (pos != text.length()) throw error("unexpected text after the JSON value");
            return value;
        }

        private Object parseValue(int depth) {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
            if (pos >= text.length()) throw error("unexpected end of input");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> parseObject(depth);
                case '[' -> parseArray(depth);
                case '"' -> parseString();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield parseNumber();
                    throw error("unexpected character " + describe(c));
                }
            };
        }

        private Map<String, Object> parseObject(int depth) {
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') throw error("expected a member name in double quotes");
                int keyPos = pos;
                String key = parseString();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object value = parseValue(depth + 1);
                if (map.containsKey(key)) {
                    pos = keyPos;
                    throw error("repeated member name \"" + Untrusted.text(key) + "\"");
                }
                map.put(key, value);
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == '}') return map;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}' in an object");
                }
            }
        }

        private List<Object> parseArray(int depth) {
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(parseValue(depth + 1));
                skipWhitespace();
                char c = peek();
                pos++;
                if (c == ']') return list;
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']' in an array");
                }
            }
        }

        private String parseString() {
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) throw error("unterminated string");
                char c = text.charAt(pos++);
                if (c == '"') return sb.toString();
                if (c < 0x20) {
                    pos--;
                    throw error("control character " + describe(c) + " inside a string (must be escaped)");
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (pos >= text.length()) throw error("unterminated string");
                char e = text.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> sb.append(parseHex4());
                    default -> {
                        pos--;
                        throw error("invalid escape \\" + e);
                    }
                }
            }
        }

        private char parseHex4() {
            if (pos + 4 > text.length()) throw error("truncated \\u escape");
            int v = 0;
            for (int i = 0; i < 4; i++) {
                int d = Character.digit(text.charAt(pos + i), 16);
                if (d < 0) throw error("invalid \\u escape");
                v = v * 16 + d;
            }
            pos += 4;
            return (char) v;
        }

        private Object parseNumber() {
            int start = pos;
            boolean integral = true;
            if (peek() == '-') pos++;
            if (peek() == '0') {
                pos++;
            } else if (isDigit(peek())) {
                while (isDigit(peek())) pos++;
            } else {
                throw error("invalid number");
            }
            if (peek() == '.') {
                integral = false;
                pos++;
                if (!isDigit(peek())) throw error("invalid number: digits must follow '.'");
                while (isDigit(peek())) pos++;
            }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error("invalid number: digits must follow the exponent");
                while (isDigit(peek())) pos++;
            }
            String literal = text.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(literal);
                } catch (NumberFormatException tooLarge) {
                    // Beyond the long range: keep the magnitude as a double rather than fail.
                }
            }
            return Double.parseDouble(literal);
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error("unexpected character " + describe(text.charAt(pos)));
            pos += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        /** The current character, or NUL at the end (NUL never starts a valid token here). */
        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private static String describe(char c) {
            return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
        }

        private JsonException error(String what) {
            int line = 1;
            int column = 1;
            for (int i = 0; i < Math.min(pos, text.length()); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            return new JsonException("invalid JSON at line " + line + ", column " + column + ": " + what);
        }
    }

    /** Serialiser shared by the compact and the pretty form. */
    private static final class Writer {
        private final StringBuilder out;
        private final boolean pretty;

        Writer(StringBuilder out, boolean pretty) {
            this.out = out;
            this.pretty = pretty;
        }

        void value(Object v, int depth) {
            // A depth limit also catches self-containing collections, which would otherwise overflow the stack.
            if (depth > MAX_DEPTH) {
                throw new JsonException("cannot write JSON nested deeper than " + MAX_DEPTH + " levels");
            }
            switch (v) {
                case null -> out.append("null");
                case Boolean b -> out.append(b);
                case CharSequence s -> string(s);
                case Character c -> string(String.valueOf(c));
                case Double d -> floating(d, Double.toString(d));
                // Float.toString keeps the short form (0.1, not 0.10000000149011612).
                case Float f -> floating(f, Float.toString(f));
                case BigDecimal d -> out.append(d.toString());
                case Number n
                when n instanceof Long
                        || n instanceof Integer
                        || n instanceof Short
                        || n instanceof Byte
                        || n instanceof BigInteger -> out.append(n);
                case Number n -> floating(n.doubleValue(), Double.toString(n.doubleValue()));
                case Map<?, ?> m -> object(m, depth);
                case Iterable<?> it -> {
                    List<Object> items = new ArrayList<>();
                    it.forEach(items::add);
                    array(items, depth);
                }
                default -> {
                    if (!v.getClass().isArray()) {
                        throw new JsonException("cannot write a " + v.getClass().getName() + " as JSON");
                    }
                    int n = Array.getLength(v);
                    List<Object> items = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) items.add(Array.get(v, i));
                    array(items, depth);
                }
            }
        }

        private void floating(double d, String text) {
            if (!Double.isFinite(d)) throw new JsonException("cannot write " + d + " as JSON (only finite numbers)");
            out.append(text);
        }

        private void object(Map<?, ?> map, int depth) {
            if (map.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new JsonException("cannot write a JSON object with a non-string key " + e.getKey());
                }
                if (!first) out.append(',');
                first = false;
                newline(depth + 1);
                string(key);
                out.append(pretty ? ": " : ":");
                value(e.getValue(), depth + 1);
            }
            newline(depth);
            out.append('}');
        }

        private void array(List<Object> items, int depth) {
            if (items.isEmpty()) {
                out.append("[]");
                return;
            }
            boolean oneLine = !pretty || items.stream().noneMatch(Writer::isContainer);
            out.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) out.append(oneLine && pretty ? ", " : ",");
                if (!oneLine) newline(depth + 1);
                value(items.get(i), depth + 1);
            }
            if (!oneLine) newline(depth);
            out.append(']');
        }

        private static boolean isContainer(Object v) {
            return v instanceof Map
                    || v instanceof Iterable
                    || (v != null && v.getClass().isArray());
        }

        private void newline(int depth) {
            if (!pretty) return;
            out.append('\n');
            out.append("  ".repeat(depth));
        }

        private void string(CharSequence s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        boolean pairedSurrogate = Character.isHighSurrogate(c)
                                && i + 1 < s.length()
                                && Character.isLowSurrogate(s.charAt(i + 1));
                        if (pairedSurrogate) {
                            out.append(c).append(s.charAt(++i));
                        } else if (c < 0x20 || Character.isSurrogate(c)) {
                            // Lone surrogates cannot be encoded as UTF-8; the escape keeps them lossless.
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }
}
