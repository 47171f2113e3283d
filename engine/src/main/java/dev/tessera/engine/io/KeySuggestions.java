package dev.tessera.engine.io;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** The "(did you mean ...)" hint for a missing state-dict key. */
final class KeySuggestions {
    private static final int MAX_SUGGESTIONS = 3;
    /** Beyond this many keys the edit-distance scan is not worth it for an error message. */
    private static final int MAX_KEYS_SCANNED = 50_000;

    private KeySuggestions() {}

    /** " (did you mean 'a' or 'b'?)" listing up to three similar keys, or "" when none is close. */
    static String didYouMean(String missing, Collection<String> keys) {
        if (keys.size() > MAX_KEYS_SCANNED) return "";
        record Candidate(String key, int distance) {}
        int threshold = Math.max(2, missing.length() / 5);
        List<Candidate> close = new ArrayList<>();
        for (String key : keys) {
            // A prefix difference ("module.", "model.") is the commonest mistake; rank it like a one-letter typo.
            if (key.endsWith("." + missing) || missing.endsWith("." + key)) {
                close.add(new Candidate(key, 1));
                continue;
            }
            if (Math.abs(key.length() - missing.length()) > threshold) continue;
            int d = editDistance(missing, key, threshold);
            if (d <= threshold) close.add(new Candidate(key, d));
        }
        if (close.isEmpty()) return "";
        close.sort(Comparator.comparingInt(Candidate::distance));
        List<String> names = close.stream()
                .limit(MAX_SUGGESTIONS)
                .map(c -> "'" + Untrusted.text(c.key()) + "'")
                .toList();
        return " (did you mean " + String.join(" or ", names) + "?)";
    }

    /** Levenshtein distance, or {@code limit + 1} as soon as it is known to exceed {@code limit}. */
    private static int editDistance(String a, String b, int limit) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) previous[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            int rowMin = current[0];
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
                rowMin = Math.min(rowMin, current[j]);
            }
            if (rowMin > limit) return limit + 1;
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
