package dev.tessera.examples.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.testing.Golden;
import dev.tessera.engine.testing.PerturbedCopy;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each example program runs as a user would run it and writes what it says. */
class AppsTest {

    /** Runs {@code main} with stdout captured. */
    static String run(ThrowingMain main, String... args) throws Exception {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(before);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    interface ThrowingMain {
        void run(String[] args) throws Exception;
    }

    static BufferedImage png(Path p) throws IOException {
        assertTrue(Files.isRegularFile(p), p + " was not written");
        return ImageIO.read(p.toFile());
    }

    @Test
    void helloWorldWritesOneSneaker(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("s.png");
        String log = run(HelloWorld::main, out.toString());
        assertTrue(log.contains("wrote " + out), log);
        BufferedImage img = png(out);
        assertEquals(32, img.getWidth());
        assertEquals(32, img.getHeight());
    }

    @Test
    void editSideBySideShowsInputMaskAndEdit(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("edit.png");
        String log = run(EditSideBySide::main, out.toString(), "2");
        assertTrue(log.contains("wrote " + out), log);
        BufferedImage img = png(out);
        assertEquals(3 * 32, img.getWidth());
        assertEquals(2 * 32, img.getHeight());
        // the mask column: black (kept) on the lowest quarter, white above it
        assertEquals(0xffffff, img.getRGB(32 + 5, 3) & 0xffffff);
        assertEquals(0x000000, img.getRGB(32 + 5, 30) & 0xffffff);
        // the edit is not the input
        boolean changed = false;
        for (int y = 0; y < 32 && !changed; y++) {
            for (int x = 0; x < 32 && !changed; x++) changed = img.getRGB(x, y) != img.getRGB(64 + x, y);
        }
        assertTrue(changed, log);
    }

    @Test
    void collaborativeBundledMeasuresEveryConfiguration() throws Exception {
        String log = run(CollaborativeBundled::main, "10");
        for (String name : new String[] {"small (d2) alone", "large (d3) alone", "N = 1", "N = 2", "N = 3"}) {
            Matcher m = Pattern.compile(Pattern.quote(name) + " +class accuracy +([0-9.]+)% \\| judge FID +([0-9.]+)")
                    .matcher(log);
            assertTrue(m.find(), name + " in:\n" + log);
        }
    }

    @Test
    void classGridHasARowPerClass(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("grid.png");
        run(ClassGrid::main, out.toString(), "3");
        BufferedImage img = png(out);
        assertEquals(3 * 32, img.getWidth());
        assertEquals(10 * 32, img.getHeight());
    }

    @Test
    void speculativeSideBySideReportsWhatEachSamplerCost(@TempDir Path tmp) throws Exception {
        Path gpt = Golden.testdata().resolve("llamagen-small/gpt.pth"),
                vq = Golden.testdata().resolve("llamagen-small/vq.pth");
        Path draft = PerturbedCopy.write(gpt, tmp.resolve("draft.safetensors"), 0.03, 5);
        String log =
                run(SpeculativeSideBySide::main, gpt.toString(), draft.toString(), vq.toString(), tmp.toString(), "3");
        int[] target = new int[3];
        String[] names = {"AR", "SPECULATIVE", "SJD"};
        for (int i = 0; i < 3; i++) {
            Matcher m = Pattern.compile(names[i] + "\\s+(\\d+) target forwards, +(\\d+) draft forwards")
                    .matcher(log);
            assertTrue(m.find(), names[i] + " in:\n" + log);
            target[i] = Integer.parseInt(m.group(1));
            png(tmp.resolve(names[i].toLowerCase() + ".png"));
        }
        // plain AR: one target forward per token; a close draft and SJD both need fewer
        assertTrue(target[1] < target[0] && target[2] < target[0], log);
    }

    @Test
    void evaluateBundledPrintsAccuracy(@TempDir Path tmp) throws Exception {
        String log = run(EvaluateBundled::main, tmp.resolve("wrong").toString(), "2");
        Matcher m = Pattern.compile("class accuracy ([0-9.]+)% of 20 samples").matcher(log);
        assertTrue(m.find(), log);
        assertTrue(Double.parseDouble(m.group(1)) >= 50, log);
        assertTrue(log.contains("ankle boot"), log);
    }
}
