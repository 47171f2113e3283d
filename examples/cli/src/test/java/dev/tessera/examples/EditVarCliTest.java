package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarEdit;
import dev.tessera.samplers.var.VarEditMask;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera edit var}: the notebook's editing from the command line, and its bad inputs. */
class EditVarCliTest {

    /** The composite token maps of a {@code --tokens-out} file with one image. */
    @SuppressWarnings("unchecked")
    static List<int[]> scales(Path json) {
        List<Map<String, Object>> images =
                (List<Map<String, Object>>) ((Map<String, Object>) Json.read(json)).get("images");
        assertEquals(1, images.size());
        return ((List<List<Number>>) images.get(0).get("scales"))
                .stream()
                        .map(s -> s.stream().mapToInt(Number::intValue).toArray())
                        .toList();
    }

    @Test
    void inPaintingTheGoldenPictureGivesTheNotebooksTokensAndImage(@TempDir Path tmp) {
        Path dir = Golden.sharedRoot().resolve("var-edit");
        if (!Files.isRegularFile(dir.resolve("edit.safetensors"))) {
            Assumptions.abort("SKIPPED: shared golden set not found at " + dir + " (set -Dtessera.golden=...)");
        }
        Path out = tmp.resolve("edited.png"), tokens = tmp.resolve("t.json");
        Cli r = Cli.run(
                "edit",
                "var",
                "--model",
                GenerateVarCliTest.VAR.toString(),
                "--vae",
                GenerateVarCliTest.VAE.toString(),
                "--image",
                dir.resolve("input.png").toString(),
                "--box",
                "0.1,0.1,0.8,0.8",
                "--class",
                "none",
                "--cfg",
                "3",
                "--top-k",
                "1",
                "--top-p",
                "0",
                "--out",
                out.toString(),
                "--tokens-out",
                tokens.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class none") && r.out().contains("121 of 256 finest tokens regenerated"), r.out());
        List<int[]> got = scales(tokens);
        try (Checkpoint g = Checkpoints.open(dir.resolve("edit.safetensors"))) {
            for (int si = 0; si < 10; si++) {
                int[] kept = g.tensor("inpaint-greedy.kept." + si).toIntArray();
                int[] input = g.tensor("input.tokens." + si).toIntArray();
                int[] chosen = g.tensor("inpaint-greedy.chosen." + si).toIntArray();
                int[] want = new int[kept.length];
                for (int t = 0; t < want.length; t++) want[t] = kept[t] != 0 ? input[t] : chosen[t];
                assertArrayEquals(want, got.get(si), "composite tokens of scale " + si);
            }
            PngLevels.compare(g.tensor("inpaint-greedy.image").toFloatArray(), Images.toTensor(Images.read(out)))
                    .assertWithinHalfLevel(1e-5, 8, "VAR edit CLI PNG vs inpaint-greedy.image");
        }
    }

    @Test
    void aMaskPictureAtAnotherSizeEqualsTheBoxAndTheApi(@TempDir Path tmp) {
        // a sneaker from the bundled model, its lower half regenerated as an ankle boot
        Path sneaker = tmp.resolve("sneaker.png");
        assertEquals(
                0,
                Cli.run("generate", "var", "--class", "sneaker", "--out", sneaker.toString())
                        .status());
        BufferedImage mask = new BufferedImage(100, 100, BufferedImage.TYPE_INT_RGB);
        for (int y = 50; y < 100; y++) for (int x = 0; x < 100; x++) mask.setRGB(x, y, 0xffffff);
        Path maskFile = tmp.resolve("mask.png");
        Images.writePng(mask, maskFile);

        Path a = tmp.resolve("a.png"), b = tmp.resolve("b.png");
        Cli ra = Cli.run(
                "edit",
                "var",
                "--image",
                sneaker.toString(),
                "--box",
                "0.5,0,1,1",
                "--class",
                "ankle boot",
                "--seed",
                "3",
                "--out",
                a.toString(),
                "--tokens-out",
                tmp.resolve("a.json").toString());
        Cli rb = Cli.run(
                "edit",
                "var",
                "--image",
                sneaker.toString(),
                "--mask",
                maskFile.toString(),
                "--class",
                "9",
                "--seed",
                "3",
                "--out",
                b.toString(),
                "--tokens-out",
                tmp.resolve("b.json").toString());
        assertEquals(0, ra.status(), ra.err());
        assertEquals(0, rb.status(), rb.err());
        assertTrue(ra.out().contains("class 9 ankle boot") && ra.out().contains("8 of 16"), ra.out());
        List<int[]> ta = scales(tmp.resolve("a.json")), tb = scales(tmp.resolve("b.json"));
        for (int si = 0; si < ta.size(); si++) assertArrayEquals(ta.get(si), tb.get(si), "scale " + si);

        try (VarPipeline var = VarPipeline.loadDefault()) {
            List<int[]> input = var.encode(Images.toTensor(Images.read(sneaker)), 32, 32);
            VarDetails api = var.edit(
                            new VarEdit(input, VarEditMask.box(var.vqvae().side(), 0.5, 0, 1, 1, true), 9),
                            3,
                            var.defaults(),
                            Progress.NONE)
                    .details();
            int side = var.vqvae().side();
            for (int si = 0; si < ta.size(); si++) {
                assertArrayEquals(api.tokens().get(si), ta.get(si), "CLI vs API, scale " + si);
            }
            // the upper half of the finest map is the sneaker's own
            int[] finest = ta.get(ta.size() - 1), kept = input.get(input.size() - 1);
            for (int t = 0; t < side * side / 2; t++) assertEquals(kept[t], finest[t], "kept token " + t);
        }
    }

    @Test
    void badInputsAreOneLineAndWriteNothing(@TempDir Path tmp) {
        Path small = tmp.resolve("small.png");
        Images.writePng(new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB), small);
        Path out = tmp.resolve("o.png");
        String[][] cases = {
            {"--image", small.toString(), "--box", "0.5,0,1,1", "--class", "none"},
            {"--image", small.toString(), "--class", "none"},
            {"--image", small.toString(), "--box", "0.5,0,1,1", "--mask", small.toString(), "--class", "none"},
            {"--image", small.toString(), "--mask", small.toString(), "--outpaint", "--class", "none"},
            {"--image", small.toString(), "--box", "0.5,0,1", "--class", "none"},
            {"--image", small.toString(), "--box", "0.5,0,0.2,1", "--class", "none"},
            {"--image", small.toString(), "--box", "0.5,0,1,1"},
            {"--image", tmp.resolve("nope.png").toString(), "--box", "0.5,0,1,1", "--class", "none"},
        };
        String[] expect = {
            "is 28x28 but this model works at 32x32",
            "give either --box or --mask",
            "give either --box or --mask",
            "--outpaint goes with --box",
            "--box takes four fractions",
            "--box needs y0 < y1",
            "missing --class",
            "no such file"
        };
        for (int i = 0; i < cases.length; i++) {
            String[] args = GenerateVarCliTest.concat(
                    GenerateVarCliTest.concat(new String[] {"edit", "var"}, cases[i]),
                    new String[] {"--out", out.toString()});
            Cli r = Cli.run(args);
            assertTrue(r.status() == 1 || r.status() == 2, "case " + i + ": status " + r.status());
            assertEquals(1, r.err().strip().lines().count(), "case " + i + ": " + r.err());
            assertTrue(r.err().contains(expect[i]), "case " + i + ": " + r.err());
            assertFalse(Files.exists(out), "case " + i);
        }
    }
}
