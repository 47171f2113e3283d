package dev.tessera.engine.io;

/**
 * Text read from a file (names, keys, dtypes), made fit for a one-line error message: control characters are
 * escaped and the length is capped, so that a corrupt or hostile file cannot forge or flood the message.
 */
final class Untrusted {
    private static final int MAX_LENGTH = 200;

    private Untrusted() {}

    static String text(String s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_LENGTH) + 8);
        for (int i = 0; i < s.length(); i++) {
            if (out.length() >= MAX_LENGTH) {
                out.append("...");
                break;
            }
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
