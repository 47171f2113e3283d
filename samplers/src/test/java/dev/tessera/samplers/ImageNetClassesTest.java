package dev.tessera.samplers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageNetClassesTest {

    private final ImageNetClasses classes = ImageNetClasses.imagenet();

    private static TesseraException fails(String label, int numClasses) {
        TesseraException e = assertThrows(
                TesseraException.class, () -> ImageNetClasses.imagenet().resolve(label, numClasses));
        assertFalse(
                e.getMessage().contains("\n") || e.getMessage().contains("\r"),
                () -> "message is not one line: " + e.getMessage());
        return e;
    }

    @Test
    void resourceHasOneNonEmptyLinePerClass() throws IOException {
        try (InputStream in = ImageNetClasses.class.getResourceAsStream(ImageNetClasses.RESOURCE)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.endsWith("\n"));
            List<String> lines = text.lines().toList();
            assertEquals(1000, lines.size());
            assertTrue(lines.stream().noneMatch(String::isBlank));
        }
        assertEquals(1000, classes.size());
        assertSame(classes, ImageNetClasses.imagenet());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "0   | tench",
                "1   | goldfish",
                "207 | golden retriever",
                "281 | tabby",
                "285 | Egyptian cat",
                "388 | giant panda",
                "417 | balloon",
                "980 | volcano",
                "999 | toilet tissue",
            })
    void spotChecks(int index, String name) {
        assertEquals(name, classes.name(index));
        assertEquals(index, classes.resolve(name, 1000));
    }

    @Test
    void synonymsAreListedInOrder() {
        assertEquals(List.of("tench", "Tinca tinca"), classes.synonyms(0));
        assertEquals(List.of("tabby", "tabby cat"), classes.synonyms(281));
        assertEquals(List.of("toilet tissue", "toilet paper", "bathroom tissue"), classes.synonyms(999));
        assertEquals("Ailuropoda melanoleuca", classes.synonyms(388).getLast());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "golden retriever         | 207",
                "Golden_Retriever         | 207",
                "  GOLDEN-retriever       | 207",
                "golden    retriever      | 207",
                "tabby cat                | 281",
                "Tinca tinca              | 0",
                "toilet_paper             | 999",
                "hen of the woods         | 996",
                "hen-of-the-woods         | 996",
                "jack o lantern           | 607",
                "jack-o'-lantern          | 607",
                "potters wheel            | 739",
            })
    void namesIgnoreCaseSpacesUnderscoresAndHyphens(String label, int index) {
        assertEquals(index, classes.resolve(label, 1000));
        assertEquals(OptionalInt.of(index), classes.find(label));
    }

    @ParameterizedTest
    @CsvSource({"207, 207", "0, 0", "999, 999", "' 42 ', 42", "+7, 7", "007, 7", "-0, 0", "5, 5"})
    void numbersAreIndices(String label, int index) {
        assertEquals(index, classes.resolve(label, 1000));
    }

    @Test
    void indicesBeyondTheListAreFineWhenTheModelHasThem() {
        // e.g. a model with an extra "no class" embedding at index 1000
        assertEquals(1000, classes.resolve("1000", 1001));
    }

    @Test
    void indexOutOfRange() {
        assertEquals(
                "class 207 is out of range: this model has 10 classes (0-9)",
                fails("207", 10).getMessage());
        assertEquals(
                "class 10 is out of range: this model has 10 classes (0-9)",
                fails("10", 10).getMessage());
        assertTrue(fails("1000", 1000).getMessage().contains("1000 classes (0-999)"));
        assertTrue(fails("99999999999999999999", 1000).getMessage().contains("out of range"));
        assertEquals(9, classes.resolve("9", 10));
    }

    @Test
    void nameOutOfRange() {
        String message = fails("golden retriever", 10).getMessage();
        assertTrue(message.contains("207"), message);
        assertTrue(message.contains("only 10 classes (0-9)"), message);
        assertEquals(3, classes.resolve("tiger shark", 10));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "-207", " -3 "})
    void negativeIndices(String label) {
        String message = fails(label, 1000).getMessage();
        assertTrue(message.contains("negative"), message);
    }

    @Test
    void sharedNamesAreAmbiguous() {
        String crane = fails("crane", 1000).getMessage();
        assertTrue(crane.contains("ambiguous"), crane);
        assertTrue(crane.contains("134 crane") && crane.contains("517 crane"), crane);

        String maillot = fails("Maillot", 1000).getMessage();
        assertTrue(maillot.contains("638 maillot") && maillot.contains("639 maillot"), maillot);

        String panda = fails("panda", 1000).getMessage();
        assertTrue(panda.contains("387 lesser panda") && panda.contains("388 giant panda"), panda);

        assertEquals(OptionalInt.empty(), classes.find("crane"));
        assertEquals(388, classes.resolve("giant panda", 1000));
    }

    @Test
    void unknownNamesListTheClosestClasses() {
        String message = fails("golden retreiver", 1000).getMessage();
        assertTrue(message.startsWith("unknown class \"golden retreiver\"; closest: 207 golden retriever"), message);
        assertEquals(5, message.substring(message.indexOf("closest:")).split(", ").length, message);

        String retriever = fails("retriever", 1000).getMessage();
        for (String name : List.of(
                "205 flat-coated retriever",
                "206 curly-coated retriever",
                "207 golden retriever",
                "208 Labrador retriever",
                "209 Chesapeake Bay retriever")) {
            assertTrue(retriever.contains(name), retriever);
        }

        assertTrue(fails("volcanoe", 1000).getMessage().contains("closest: 980 volcano"));
        assertEquals(OptionalInt.empty(), classes.find("golden retreiver"));
    }

    @Test
    void suggestionsStayWithinTheModel() {
        String message = fails("goldfsh", 10).getMessage();
        assertTrue(message.contains("closest: 1 goldfish"), message);
        assertFalse(message.contains("207"), message);
    }

    @Test
    void farOffNamesGetNoSuggestions() {
        assertEquals(
                "unknown class \"xyzzy\"; no class name is close; give a class index or an ImageNet class name",
                fails("xyzzy", 1000).getMessage());
        assertEquals(
                "unknown class \"retriever\"; no name of this model's 10 classes (0-9) is close;"
                        + " give a class index or an ImageNet class name",
                fails("retriever", 10).getMessage());
    }

    @Test
    void wholeWordHitsComeFirst() {
        String message = fails("persian", 1000).getMessage();
        assertTrue(message.startsWith("unknown class \"persian\"; closest: 283 Persian cat"), message);
        assertTrue(fails("a golden retriever dog", 1000).getMessage().contains("closest: 207 golden retriever"));
    }

    @Test
    void blankAndOddLabelsAreOneLineErrors() {
        assertTrue(fails("", 1000).getMessage().startsWith("empty class label"));
        assertTrue(fails("   ", 1000).getMessage().startsWith("empty class label"));
        assertTrue(fails(null, 1000).getMessage().startsWith("empty class label"));
        assertTrue(fails("__", 1000).getMessage().contains("no letters or digits"));
        assertTrue(fails("golden\nretreiver", 1000).getMessage().contains("207 golden retriever"));
        assertTrue(fails("x".repeat(500), 1000).getMessage().length() < 300);
    }

    @Test
    void levenshtein() {
        assertEquals(0, ImageNetClasses.levenshtein("abc", "abc"));
        assertEquals(3, ImageNetClasses.levenshtein("", "abc"));
        assertEquals(3, ImageNetClasses.levenshtein("kitten", "sitting"));
        assertEquals(2, ImageNetClasses.levenshtein("retreiver", "retriever"));
    }
}
