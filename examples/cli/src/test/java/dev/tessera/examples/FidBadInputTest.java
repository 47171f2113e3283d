package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FID commands' bad inputs: one readable line, a non-zero exit, and nothing written. */
class FidBadInputTest {
    @TempDir
    Path tmp;

    private String fails(Path out, String... args) {
        Cli r = Cli.run(args);
        assertNotEquals(0, r.status(), "expected a failure, got: " + r.out());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "error must be one line, got:\n" + err);
        assertTrue(err.startsWith("tessera: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack traces for users: " + err);
        assertFalse(Files.exists(out), "nothing may be written on failure: " + out);
        return err;
    }

    private String evalFails(Path ref, Path inception, String... extra) {
        Path out = tmp.resolve("eval");
        String[] base = {
            "eval",
            "--model-family",
            "var",
            "--model",
            EvalCliTest.VAR.toString(),
            "--vae",
            EvalCliTest.VAE.toString(),
            "--samples",
            "4",
            "--per-class",
            "2",
            "--ref",
            ref.toString(),
            "--inception",
            inception.toString(),
            "--out",
            out.toString()
        };
        return fails(out, GenerateVarCliTest.concat(base, extra));
    }

    /**
     * A stand-in for the Inception weights where the command must fail before it reads them: these tests then run
     * without the 48 MB shared file (a command that did read it would fail on this file with another message).
     */
    private Path neverRead() {
        Path p = tmp.resolve("never-read-inception.pth");
        try {
            if (!Files.exists(p)) Files.writeString(p, "not read");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private Path npz(String name, Tensor... tensors) {
        NpzWriter w = new NpzWriter();
        for (Tensor t : tensors) w.put(t.name(), t);
        Path p = tmp.resolve(name);
        w.write(p);
        return p;
    }

    @Test
    void missingReference() {
        String err = evalFails(tmp.resolve("VIRTUAL_imagenet256_labeled.npz"), neverRead());
        assertTrue(err.contains("VIRTUAL_imagenet256_labeled.npz") && err.contains("no such file"), err);
    }

    @Test
    void referenceWithWrongKeys() {
        Path ref = npz("ref.npz", Tensor.ofFloats("features", new float[] {1, 2}, 2));
        String err = evalFails(ref, neverRead());
        assertTrue(
                err.contains("ref.npz")
                        && err.contains("not a reference")
                        && err.contains("'mu' and 'sigma'")
                        && err.contains("features"),
                err);
        Path half = npz("half.npz", Tensor.ofFloats("mu", new float[2048], 2048));
        err = evalFails(half, neverRead());
        assertTrue(err.contains("has 'mu' but no 'sigma'"), err);
        Path small = npz(
                "small.npz",
                Tensor.ofFloats("mu", new float[64], 64),
                Tensor.ofFloats("sigma", new float[64 * 64], 64, 64));
        err = evalFails(small, neverRead());
        assertTrue(err.contains("[2048]") && err.contains("[64]"), err);
        Path floats = npz("floats.npz", Tensor.ofFloats("arr_0", new float[2 * 4 * 4 * 3], 2, 4, 4, 3));
        err = evalFails(floats, neverRead());
        assertTrue(err.contains("'arr_0' must be uint8 images [N, H, W, 3]") && err.contains("<f4"), err);
    }

    @Test
    void inceptionFileWithOtherKeys() {
        Path ref = npz(
                "ref.npz", new Tensor("arr_0", DType.U8, new long[] {2, 4, 4, 3}, MemorySegment.ofArray(new byte[96])));
        String err = evalFails(ref, EvalCliTest.VAR);
        assertTrue(
                err.contains("var.pth")
                        && err.contains("not the FID Inception weights")
                        && err.contains("keys are missing"),
                err);
        Path imgs = FidCliTest.images(tmp.resolve("imgs"), 2, 8, 8, 1);
        err = fails(
                tmp.resolve("s.npz"),
                "fid",
                "stats",
                "--inception",
                EvalCliTest.VAE.toString(),
                "--images",
                imgs.toString(),
                "--out",
                tmp.resolve("s.npz").toString());
        assertTrue(err.contains("vae.pth") && err.contains("not the FID Inception weights"), err);
    }

    @Test
    void unreadableImage() throws IOException {
        Path imgs = FidCliTest.images(tmp.resolve("imgs"), 2, 8, 8, 1);
        Files.writeString(imgs.resolve("img01.png"), "not a png");
        Path out = tmp.resolve("s.npz");
        String err = fails(
                out,
                "fid",
                "stats",
                "--inception",
                FidCliTest.inception().toString(),
                "--images",
                imgs.toString(),
                "--out",
                out.toString());
        assertTrue(err.contains("img01.png") && err.contains("not a readable image"), err);
    }

    @Test
    void emptyImageFolder() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        String err = fails(
                tmp.resolve("f.npy"),
                "fid",
                "features",
                "--inception",
                neverRead().toString(),
                "--images",
                empty.toString(),
                "--out",
                tmp.resolve("f.npy").toString());
        assertTrue(err.contains("empty") && err.contains("no images"), err);
    }

    @Test
    void distanceOfFilesWithoutStatistics() {
        Path batch = npz(
                "batch.npz",
                new Tensor("arr_0", DType.U8, new long[] {2, 4, 4, 3}, MemorySegment.ofArray(new byte[96])));
        Path stats =
                npz("stats.npz", Tensor.ofFloats("mu", new float[2], 2), Tensor.ofFloats("sigma", new float[4], 2, 2));
        Path other =
                npz("other.npz", Tensor.ofFloats("mu", new float[3], 3), Tensor.ofFloats("sigma", new float[9], 3, 3));
        String err = fails(tmp.resolve("none"), "fid", "distance", batch.toString(), stats.toString());
        assertTrue(
                err.contains("batch.npz") && err.contains("no FID statistics") && err.contains("fid stats --images"),
                err);
        err = fails(tmp.resolve("none"), "fid", "distance", stats.toString(), other.toString());
        assertTrue(err.contains("not comparable"), err);
        err = fails(tmp.resolve("none"), "fid", "distance", stats.toString());
        assertTrue(err.contains("two statistics files"), err);
    }

    @Test
    void badOptions() {
        Path ref = tmp.resolve("ref.npz");
        assertTrue(evalFails(ref, neverRead(), "--preprocess", "tf")
                .contains("--preprocess must be one of adm, pytorch-fid, clean-fid"));
        Path out = tmp.resolve("eval");
        String err = fails(
                out,
                "eval",
                "--model-family",
                "var",
                "--model",
                EvalCliTest.VAR.toString(),
                "--vae",
                EvalCliTest.VAE.toString(),
                "--samples",
                "5",
                "--per-class",
                "2",
                "--ref",
                ref.toString(),
                "--inception",
                "x",
                "--out",
                out.toString());
        assertTrue(err.contains("multiple of --per-class"), err);
        err = fails(
                out,
                "eval",
                "--model-family",
                "var",
                "--model",
                EvalCliTest.VAR.toString(),
                "--vq",
                EvalCliTest.VAE.toString());
        assertTrue(err.contains("--vq is not an option of the var family"), err);
        err = fails(out, "eval", "--model-family", "flux");
        assertTrue(err.contains("unknown --model-family"), err);
        assertTrue(fails(out, "fid", "frobnicate").contains("unknown fid command"));
    }

    @Test
    void flowArRefusesTokenFiltersAndGuidanceBelowOne() {
        // token filters mean nothing for continuous tokens
        Path dir = Golden.testdata().resolve("flowar-small"), out = tmp.resolve("bad");
        for (String[] bad : new String[][] {
            {"--top-k", "5", "--top-k is not an option of the flowar family"},
            {"--cfg", "0.5", "--cfg must be at least 1"}
        }) {
            Cli r = Cli.run(
                    "eval",
                    "--model-family",
                    "flowar",
                    "--model",
                    dir.resolve("flowar.pth").toString(),
                    "--vae",
                    dir.resolve("vae.pth").toString(),
                    "--samples",
                    "2",
                    "--per-class",
                    "1",
                    "--ref",
                    tmp.resolve("ref.npz").toString(),
                    "--inception",
                    neverRead().toString(),
                    "--out",
                    out.toString(),
                    bad[0],
                    bad[1]);
            assertEquals(2, r.status(), r.err());
            assertTrue(r.err().contains(bad[2]), r.err());
            assertFalse(Files.exists(out), "nothing written for a refused run");
        }
    }

    @Test
    void moreClassesThanTheModelHas() {
        Path ref = npz(
                "ref.npz", new Tensor("arr_0", DType.U8, new long[] {2, 4, 4, 3}, MemorySegment.ofArray(new byte[96])));
        Path out = tmp.resolve("eval");
        String err = fails(
                out,
                "eval",
                "--model-family",
                "var",
                "--model",
                EvalCliTest.VAR.toString(),
                "--vae",
                EvalCliTest.VAE.toString(),
                "--samples",
                "22",
                "--per-class",
                "2",
                "--ref",
                ref.toString(),
                "--inception",
                neverRead().toString(),
                "--out",
                out.toString());
        assertTrue(err.contains("needs 11 classes but the model has 10"), err);
    }
}
