package dev.tessera.samplers;

import dev.tessera.engine.TesseraException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The 1000 ImageNet-1k (ILSVRC-2012) class names, and a resolver that turns a user's class label ("207",
 * "golden retriever", "Golden_Retriever") into a class index of a class-conditional model.
 *
 * <p>The names live in the resource {@code imagenet_classes.txt} next to this class: UTF-8, exactly 1000 lines,
 * line {@code i} (counting from 0) holding the comma-separated WordNet synonyms of class {@code i}. The list is the
 * widely used {@code imagenet1000_clsidx_to_labels.txt} (the index-to-label dictionary published by yrevar at
 * https://gist.github.com/yrevar/942d3a0ac09ec9e5eb3a, the order PyTorch and Keras classifiers use), rewritten
 * one entry per line. It was taken from copies of that file in public GitHub repositories
 * (Lucas-rbnt/aml_adversarial_attacks, oguz417/Adversarial_Playground and tejasmakadia30/food-not-food agree
 * entry for entry; other copies differ only by local edits such as "crane(bird)"). Like the original, it names two
 * classes "crane" (134 the bird, 517 the machine) and shares a few other synonyms between classes; those
 * names are ambiguous and {@link #resolve} says so.
 */
public final class ImageNetClasses {

    /** The resource file, relative to this class's package. */
    public static final String RESOURCE = "imagenet_classes.txt";

    /** How many classes ImageNet-1k has, and so how many lines the resource must have. */
    public static final int IMAGENET_1K = 1000;

    private static final int MAX_SUGGESTIONS = 5;
    private static final int MAX_ECHO = 60;
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final Pattern SEPARATORS = Pattern.compile("[\\s\\h_\\-]+");

    private final List<List<String>> synonyms;
    /** Normalised synonym to the classes having it, in index order. */
    private final Map<String, List<Integer>> byName;

    private ImageNetClasses(List<List<String>> synonyms) {
        this.synonyms = synonyms;
        Map<String, List<Integer>> map = new HashMap<>();
        for (int i = 0; i < synonyms.size(); i++) {
            for (String key : keys(i)) {
                map.computeIfAbsent(key, k -> new ArrayList<>()).add(i);
            }
        }
        map.replaceAll((k, v) -> List.copyOf(v));
        this.byName = Map.copyOf(map);
    }

    private static final class Holder {
        static final ImageNetClasses INSTANCE = load();
    }

    /** The ImageNet-1k classes, read from the bundled resource on first use. */
    public static ImageNetClasses imagenet() {
        return Holder.INSTANCE;
    }

    private static ImageNetClasses load() {
        try (InputStream in = ImageNetClasses.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new TesseraException("resource dev/tessera/samplers/" + RESOURCE
                        + " is missing from the classpath; the tessera-samplers jar is incomplete");
            }
            List<List<String>> lines = new ArrayList<>();
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    List<String> names = new ArrayList<>();
                    for (String name : line.split(",")) {
                        if (!name.isBlank()) {
                            names.add(name.strip());
                        }
                    }
                    if (names.isEmpty()) {
                        throw new TesseraException("resource dev/tessera/samplers/" + RESOURCE + " line "
                                + (lines.size() + 1) + " names no class; each line must list a class's names");
                    }
                    lines.add(List.copyOf(names));
                }
            }
            if (lines.size() != IMAGENET_1K) {
                throw new TesseraException("resource dev/tessera/samplers/" + RESOURCE + " has " + lines.size()
                        + " lines; it must have one per ImageNet class, " + IMAGENET_1K);
            }
            return new ImageNetClasses(List.copyOf(lines));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource dev/tessera/samplers/" + RESOURCE, e);
        }
    }

    /** The number of classes, 1000. */
    public int size() {
        return synonyms.size();
    }

    /** The main name of class {@code index}, the first synonym, e.g. "golden retriever" for 207. */
    public String name(int index) {
        return synonyms(index).getFirst();
    }

    /** All names of class {@code index}, main name first, as written in the list. */
    public List<String> synonyms(int index) {
        return synonyms.get(index);
    }

    /**
     * The class that has {@code name} as one of its names, compared as {@link #resolve} does; empty when no class
     * or more than one class has that name.
     */
    public OptionalInt find(String name) {
        List<Integer> hits = name == null ? null : byName.get(normalize(name));
        return hits != null && hits.size() == 1 ? OptionalInt.of(hits.getFirst()) : OptionalInt.empty();
    }

    /**
     * The class index a user's label stands for, for a model with {@code numClasses} classes. The label is
     * either a decimal index ("207") or one of a class's names ("golden retriever", "Golden_Retriever",
     * "tabby cat"): names are compared ignoring case, surrounding space and apostrophes, with '_', '-' and runs of
     * spaces all read as one space.
     *
     * @throws TesseraException (one-line message) when the index is negative or not below {@code numClasses},
     *         when the name is unknown (it lists the closest names), when more than one class has the name (it
     *         lists them), or when the named class is not below {@code numClasses}
     */
    public int resolve(String label, int numClasses) {
        if (numClasses <= 0) {
            throw new IllegalArgumentException("numClasses must be positive, got " + numClasses);
        }
        String text = label == null ? "" : label.strip();
        if (text.isEmpty()) {
            throw new TesseraException("empty class label; give a class index (" + range(numClasses)
                    + ") or an ImageNet class name such as \"golden retriever\"");
        }
        if (INTEGER.matcher(text).matches()) {
            return resolveIndex(text, numClasses);
        }
        String key = normalize(text);
        if (key.isEmpty()) {
            throw new TesseraException("class label " + echo(text) + " has no letters or digits; give a class"
                    + " index (" + range(numClasses) + ") or an ImageNet class name such as \"golden retriever\"");
        }
        List<Integer> hits = byName.get(key);
        if (hits == null) {
            List<Integer> closest = closest(key, numClasses);
            throw new TesseraException("unknown class " + echo(text)
                    + (closest.isEmpty()
                            ? (numClasses < size()
                                            ? "; no name of this model's " + classes(numClasses) + " is close"
                                            : "; no class name is close")
                                    + "; give a class index or an ImageNet class name"
                            : "; closest: "
                                    + closest.stream().map(this::describe).collect(Collectors.joining(", "))));
        }
        if (hits.size() > 1) {
            throw new TesseraException("class name " + echo(text) + " is ambiguous: "
                    + hits.stream().map(this::describe).collect(Collectors.joining(", "))
                    + "; give the class index or a more specific name");
        }
        int index = hits.getFirst();
        if (index >= numClasses) {
            throw new TesseraException(
                    "class " + echo(text) + " is class " + index + ", but this model has only " + classes(numClasses));
        }
        return index;
    }

    private static int resolveIndex(String text, int numClasses) {
        boolean negative = text.startsWith("-");
        String digits = text.replaceFirst("^[+-]", "").replaceFirst("^0+(?=\\d)", "");
        if (negative && !digits.equals("0")) {
            throw new TesseraException("class -" + digits + " is negative; class indices run " + range(numClasses));
        }
        int index = digits.length() <= 9 ? Integer.parseInt(digits) : Integer.MAX_VALUE;
        if (index >= numClasses) {
            throw new TesseraException("class " + digits + " is out of range: this model has " + classes(numClasses));
        }
        return index;
    }

    /**
     * Up to five in-range classes closest to {@code key}, ranked by their best-matching name: names that contain
     * the label as whole words (or are whole words of it) first, then other substring hits, then names within a
     * small edit distance; ties go to the smaller edit distance, then the smaller index. Empty when none is close.
     */
    private List<Integer> closest(String key, int numClasses) {
        record Match(int index, int tier, int distance) {}
        Comparator<Match> order = Comparator.comparingInt(Match::tier)
                .thenComparingInt(Match::distance)
                .thenComparingInt(Match::index);
        int maxDistance = Math.max(2, key.length() / 2);
        List<Match> matches = new ArrayList<>();
        for (int i = 0; i < Math.min(numClasses, size()); i++) {
            Match best = null;
            for (String name : keys(i)) {
                int tier = (" " + name + " ").contains(" " + key + " ")
                                || (name.length() >= 3 && (" " + key + " ").contains(" " + name + " "))
                        ? 0
                        : name.contains(key) || (name.length() >= 4 && key.contains(name)) ? 1 : 2;
                Match match = new Match(i, tier, levenshtein(key, name));
                if (best == null || order.compare(match, best) < 0) {
                    best = match;
                }
            }
            if (best != null && (best.tier() < 2 || best.distance() <= maxDistance)) {
                matches.add(best);
            }
        }
        return matches.stream()
                .sorted(order)
                .limit(MAX_SUGGESTIONS)
                .map(Match::index)
                .toList();
    }

    private String describe(int index) {
        return index + " " + name(index);
    }

    /** The distinct normalised names of class {@code index}. */
    private Set<String> keys(int index) {
        Set<String> keys = new LinkedHashSet<>();
        for (String name : synonyms.get(index)) {
            keys.add(normalize(name));
        }
        return keys;
    }

    static String normalize(String name) {
        String lower = name.toLowerCase(Locale.ROOT).replace("'", "").replace("\u2019", "");
        return SEPARATORS.matcher(lower).replaceAll(" ").strip();
    }

    private static String range(int numClasses) {
        return numClasses == 1 ? "only 0" : "0-" + (numClasses - 1);
    }

    private static String classes(int numClasses) {
        return numClasses == 1 ? "1 class (0)" : numClasses + " classes (" + range(numClasses) + ")";
    }

    /** The user's text, quoted, kept to one short line. */
    private static String echo(String text) {
        String flat = text.codePoints()
                .map(c -> Character.isISOControl(c) ? ' ' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return "\"" + (flat.length() > MAX_ECHO ? flat.substring(0, MAX_ECHO) + "..." : flat) + "\"";
    }

    static int levenshtein(String a, String b) {
        int[] previous = IntStream.rangeClosed(0, b.length()).toArray();
        int[] current = new int[b.length() + 1];
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
