package dev.tessera.samplers.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Zero-shot editing against golden {@code var-edit} (the official notebook's
 * {@code autoregressive_infer_cfg_with_mask}, {@code get_edit_mask} and {@code replace_embedding} on the var-small
 * weights): the input image's tokens, the four
 * cases' masks, the positions each scale keeps, the composite token maps (identical) and the images (within 1e-3).
 */
class VarEditGoldenTest {
    private static final int[] PN = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
    private static Checkpoint golden;
    private static List<Object> cases;
    private static VarPipeline var;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws Exception {
        Path dir = Golden.sharedRoot().resolve("var-edit");
        if (!Files.isRegularFile(dir.resolve("edit.safetensors"))) {
            String msg = "SKIPPED: shared golden set not found at " + dir + " (set -Dtessera.golden=...)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        golden = Checkpoints.open(dir.resolve("edit.safetensors"));
        Map<String, Object> meta = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("edit.json")));
        cases = (List<Object>) meta.get("cases");
        var = VarPipeline.load(
                Golden.testdata().resolve("var-small/var.pth"),
                Golden.testdata().resolve("var-small/vae.pth"));
    }

    @AfterAll
    static void close() {
        if (golden != null) golden.close();
        if (var != null) var.close();
    }

    private static int[] ints(String name) {
        return golden.tensor(name).toIntArray();
    }

    private static List<int[]> inputTokens() {
        List<int[]> t = new ArrayList<>();
        for (int si = 0; si < PN.length; si++) t.add(ints("input.tokens." + si));
        return t;
    }

    @Test
    void encodingTheInputImageGivesItsTokens() {
        float[] image = golden.tensor("input.image").toFloatArray();
        List<int[]> got = var.encode(image, 256, 256);
        for (int si = 0; si < PN.length; si++) {
            assertArrayEquals(ints("input.tokens." + si), got.get(si), "input tokens of scale " + si);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    @SuppressWarnings("unchecked")
    void editReproducesTheNotebook(int c) {
        Map<String, Object> s = (Map<String, Object>) cases.get(c);
        String name = (String) s.get("name");
        List<Number> box = (List<Number>) s.get("box");
        VarEditMask mask = VarEditMask.box(
                16,
                box.get(0).doubleValue(),
                box.get(1).doubleValue(),
                box.get(2).doubleValue(),
                box.get(3).doubleValue(),
                (Boolean) s.get("inpainting"));
        float[] wantMask = golden.tensor(name + ".edit_mask").toFloatArray();
        assertArrayEquals(wantMask, mask.keep(), name + ": edit mask");

        VarSettings settings = new VarSettings(
                ((Number) s.get("cfg")).doubleValue(),
                ((Number) s.get("top_k")).intValue(),
                ((Number) s.get("top_p")).doubleValue(),
                (Boolean) s.get("more_smooth"));
        int label = ((Number) s.get("label")).intValue();
        Generation<VarDetails> r = var.edit(
                new VarEdit(inputTokens(), mask, label), ((Number) s.get("seed")).longValue(), settings, Progress.NONE);

        for (int si = 0; si < PN.length; si++) {
            int[] kept = ints(name + ".kept." + si), input = ints("input.tokens." + si);
            int[] chosen = ints(name + ".chosen." + si);
            boolean[] k = mask.kept(PN[si]);
            int[] composite = new int[kept.length];
            for (int t = 0; t < kept.length; t++) {
                assertEquals(kept[t] != 0, k[t], name + ": kept, scale " + si + ", position " + t);
                composite[t] = kept[t] != 0 ? input[t] : chosen[t];
            }
            assertArrayEquals(composite, r.details().tokens().get(si), name + ": composite tokens of scale " + si);
        }
        GeneratedImage img = r.images().get(0);
        assertEquals(label, img.label());
        double err = Golden.assertClose(golden.tensor(name + ".image").toFloatArray(), img.pixels(), Golden.TOL, name);
        System.out.printf("VAR edit %s: composite tokens identical, image error %.3g%n", name, err);
    }
}
