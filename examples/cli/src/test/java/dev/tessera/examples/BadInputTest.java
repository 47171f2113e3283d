package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.testing.Golden;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input gives one readable line, a non-zero exit, and writes nothing. */
class BadInputTest {
    static final String VAR = Golden.testdata().resolve("var-small/var.pth").toString();
    static final String VAE = Golden.testdata().resolve("var-small/vae.pth").toString();

    @TempDir
    Path tmp;

    /** Runs a generation that must fail and returns its one error line. */
    private String fails(String... args) {
        Path out = tmp.resolve("never");
        String[] full = GenerateVarCliTest.concat(args, new String[] {"--out", out.toString()});
        Cli r = Cli.run(full);
        assertNotEquals(0, r.status(), "expected a failure, got: " + r.out());
        String err = r.err().strip();
        assertFalse(err.isEmpty(), "no error message");
        assertEquals(1, err.lines().count(), "error must be one line, got:\n" + err);
        assertTrue(err.startsWith("tessera: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack traces for users: " + err);
        assertFalse(Files.exists(out), "nothing may be written on failure");
        return err;
    }

    @Test
    void missingModelFile() {
        String err =
                fails("generate", "var", "--model", tmp.resolve("nope.pth").toString(), "--vae", VAE, "--class", "1");
        assertTrue(err.contains("nope.pth") && err.contains("no such file"), err);
    }

    @Test
    void unknownWeightFormat() {
        String err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--weights", "fp8");
        assertTrue(err.contains("--weights") && err.contains("fp8") && err.contains("bf16"), err);
    }

    @Test
    void weightCacheOption() {
        // a folder that cannot be a path is one line naming the option; 'off' and a writable folder work, and
        // nothing of the small golden model is stored (its layers are under the cache's size limit)
        String err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--weight-cache", "a\0b");
        assertTrue(err.contains("--weight-cache") && err.contains("not a valid path"), err);
        for (String dir : new String[] {"off", tmp.resolve("cache").toString()}) {
            Cli ok = Cli.run(
                    "generate",
                    "var",
                    "--model",
                    VAR,
                    "--vae",
                    VAE,
                    "--class",
                    "1",
                    "--weight-cache",
                    dir,
                    "--out",
                    tmp.resolve("cached.png").toString());
            assertEquals(0, ok.status(), ok.err());
            assertFalse(ok.out().contains("packed weights"), ok.out());
        }
        assertFalse(Files.exists(tmp.resolve("cache")), "nothing stored for small layers");
    }

    @Test
    void unknownWeightFormatProperty() {
        String before = System.getProperty("tessera.weights");
        System.setProperty("tessera.weights", "fp8");
        try {
            String err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1");
            assertTrue(err.contains("-Dtessera.weights=fp8") && err.contains("bf16"), err);
            Cli help = Cli.run("generate", "var", "--help");
            assertEquals(0, help.status(), help.err());
        } finally {
            if (before == null) System.clearProperty("tessera.weights");
            else System.setProperty("tessera.weights", before);
        }
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void anInvalidWeightPropertyIsOneLineInAFreshJvm() throws Exception {
        // a fresh JVM: WeightPanels is loaded with the bad property (in this JVM it was loaded long before)
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                cp = System.getProperty("java.class.path");
        String[] help = fresh(javaBin, "-cp", cp, "-Dtessera.weights=fp8", "dev.tessera.examples.Main", "--help");
        assertEquals("0", help[0], help[2]); // no vector module needed for the help either
        assertTrue(help[1].contains("Usage: tessera"), help[1]);
        Path out = tmp.resolve("never.png");
        String[] gen = fresh(
                javaBin,
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                cp,
                "-Dtessera.weights=fp8",
                "dev.tessera.examples.Main",
                "generate",
                "var",
                "--model",
                VAR,
                "--vae",
                VAE,
                "--class",
                "1",
                "--out",
                out.toString());
        assertEquals("2", gen[0], gen[2]);
        String err = gen[2].lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator"))
                .collect(Collectors.joining("\n"));
        assertEquals("tessera: -Dtessera.weights=fp8: expected f32, bf16 or fp16", err);
        assertFalse(Files.exists(out));
    }

    /**
     * Runs a command in a new JVM: {exit status, stdout, stderr}. Both streams are read on threads of their own, so a
     * child that hangs or fills a pipe cannot block the test past its time limit; the child is killed then.
     */
    private static String[] fresh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        try {
            CompletableFuture<String> out = drain(p.getInputStream()), err = drain(p.getErrorStream());
            if (!p.waitFor(60, TimeUnit.SECONDS))
                fail("the child JVM did not finish within 60 s: " + String.join(" ", command));
            return new String[] {
                String.valueOf(p.exitValue()), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS)
            };
        } finally {
            if (p.isAlive()) p.destroyForcibly(); // also when @Timeout interrupts the wait
        }
    }

    /** Reads a stream to its end on a daemon thread of its own. */
    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> text = new CompletableFuture<>();
        Thread t = new Thread(() -> text.complete(readAll(in)), "drain");
        t.setDaemon(true);
        t.start();
        return text;
    }

    private static String readAll(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void truncatedCheckpoint() throws IOException {
        byte[] all = Files.readAllBytes(Path.of(VAR));
        Path half = tmp.resolve("half.pth");
        Files.write(half, Arrays.copyOf(all, all.length / 2));
        String err = fails("generate", "var", "--model", half.toString(), "--vae", VAE, "--class", "1");
        assertTrue(err.contains("half.pth") && err.contains("truncated or corrupt"), err);
    }

    @Test
    void pickleNamingOsSystemIsRefusedAndNotRun() throws IOException {
        Path marker = tmp.resolve("pwned");
        Path evil = tmp.resolve("evil.pth");
        // pickle: os.system("touch <marker>") — PROTO 2, GLOBAL, BINUNICODE arg, TUPLE1, REDUCE, STOP
        byte[] cmd = ("touch " + marker).getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(new byte[] {(byte) 0x80, 2});
        p.write("cos\nsystem\n".getBytes(StandardCharsets.US_ASCII));
        p.write('X');
        p.write(new byte[] {(byte) cmd.length, 0, 0, 0});
        p.write(cmd);
        p.write(new byte[] {(byte) 0x85, 'R', '.'});
        try (OutputStream f = Files.newOutputStream(evil);
                ZipOutputStream zip = new ZipOutputStream(f)) {
            byte[] pkl = p.toByteArray();
            ZipEntry e = new ZipEntry("archive/data.pkl");
            e.setMethod(ZipEntry.STORED);
            e.setSize(pkl.length);
            CRC32 crc = new CRC32();
            crc.update(pkl);
            e.setCrc(crc.getValue());
            zip.putNextEntry(e);
            zip.write(pkl);
            zip.closeEntry();
        }
        String err = fails("generate", "var", "--model", evil.toString(), "--vae", VAE, "--class", "1");
        assertTrue(err.contains("evil.pth") && err.contains("os.system"), err);
        assertFalse(Files.exists(marker), "the pickle's command must not run");
    }

    @Test
    void classOutOfRange() {
        String err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "12");
        assertTrue(err.contains("12") && err.contains("10 classes"), err);
        err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "golden retriever");
        assertTrue(err.contains("207") && err.contains("10 classes"), err);
        err = fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "no such animal");
        assertTrue(err.contains("unknown class"), err);
    }

    @Test
    void patchNumsThatDoNotMatchTheCheckpoint() {
        String err = fails(
                "generate",
                "var",
                "--model",
                VAR,
                "--vae",
                VAE,
                "--class",
                "1",
                "--patch-nums",
                "1,2,3,4,6,9,13,18,24,32");
        assertTrue(err.contains("--patch-nums") && err.contains("680"), err);
    }

    @Test
    void wrongFilesSwapped() {
        String err = fails("generate", "var", "--model", VAE, "--vae", VAR, "--class", "1");
        assertTrue(err.contains("vae.pth") && err.contains("not a VAR transformer"), err);
    }

    @Test
    void malformedOptions() {
        assertTrue(fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--top-p", "2")
                .contains("--top-p"));
        assertTrue(fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--seed", "x")
                .contains("--seed"));
        assertTrue(fails("generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--frobnicate")
                .contains("unknown option"));
        assertTrue(fails("generate", "var", "--model", VAR, "--class", "1").contains("--vae"));
        assertTrue(fails("generate", "flux", "--class", "1").contains("unknown model family"));
    }
}
