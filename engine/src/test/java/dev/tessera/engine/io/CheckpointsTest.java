package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format detection and the errors for files that are no checkpoint at all. */
class CheckpointsTest {
    @TempDir
    Path dir;

    private static String failure(Path file) {
        return assertThrows(CheckpointException.class, () -> Checkpoints.open(file))
                .getMessage();
    }

    @Test
    void missingFile() {
        Path file = dir.resolve("x.pth");
        assertEquals(file + ": no such file", failure(file));
    }

    @Test
    void directory() {
        assertEquals(dir + ": is a directory, not a checkpoint file", failure(dir));
    }

    @Test
    void emptyFile() throws IOException {
        Path file = Files.createFile(dir.resolve("x.pth"));
        assertEquals(file + ": empty file", failure(file));
    }

    @Test
    void unknownFormats() throws IOException {
        Path text = Files.writeString(dir.resolve("x.pth"), "hello, this is not a checkpoint");
        assertEquals(text + ": not a PyTorch zip checkpoint or safetensors file", failure(text));
        Path tiny = Files.write(dir.resolve("y.bin"), new byte[] {1});
        assertEquals(tiny + ": not a PyTorch zip checkpoint or safetensors file", failure(tiny));
        // The legacy torch.save format starts with a pickled magic number.
        Path legacy = Files.write(dir.resolve("old.pth"), new byte[] {
            (byte) 0x80,
            2,
            (byte) 0x8a,
            10,
            0x6c,
            (byte) 0xfc,
            (byte) 0x9c,
            0x46,
            (byte) 0xf9,
            0x20,
            0x6a,
            (byte) 0xa8,
            0x50,
            0x19,
            0x2e
        });
        assertEquals(
                legacy + ": legacy torch.save format (PyTorch before 1.6) is not supported; re-save it with a "
                        + "current PyTorch: torch.save(torch.load(f), f2)",
                failure(legacy));
    }

    @Test
    void zipWithoutPickle() throws IOException {
        Path file = dir.resolve("x.pth");
        try (var zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry("readme.txt"));
            zip.write("hi".getBytes());
        }
        assertEquals(file + ": not a PyTorch checkpoint: the zip archive has no data.pkl entry", failure(file));
    }

    @Test
    void closeTwiceIsHarmless() throws IOException {
        Path file = TestFiles.writePth(
                dir.resolve("x.pth"),
                new PickleWriter().proto(2).emptyDict().stop().toBytes(),
                Map.of());
        Checkpoint c = Checkpoints.open(file);
        assertEquals(0, c.keys().size());
        c.close();
        c.close();
    }
}
