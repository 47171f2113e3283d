package dev.tessera.engine.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opens checkpoint files, recognising the format by content rather than by file name: a zip archive
 * ({@code PK\3\4}) is a PyTorch {@code torch.save} checkpoint, a file whose JSON header starts right after an
 * 8-byte length is safetensors.
 */
public final class Checkpoints {
    private static final int PROBE_BYTES = 16;

    private Checkpoints() {}

    /**
     * Opens {@code path} as a {@link PthCheckpoint} or {@link SafetensorsCheckpoint}. A missing file, a directory,
     * an empty file or an unknown format is a {@link CheckpointException} naming the file.
     */
    public static Checkpoint open(Path path) {
        return open(path, null);
    }

    /**
     * As {@link #open(Path)}; a {@code .pth} file that wraps several state dicts gives the one under
     * {@code preferredWrapper} (e.g. {@code "model_ema"}, the EMA weights of MAR's releases) when it holds one.
     */
    public static Checkpoint open(Path path, String preferredWrapper) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path, "no such file");
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot read (" + e + ")", e);
        }
        if (attributes.isDirectory()) throw new CheckpointException(path, "is a directory, not a checkpoint file");
        if (attributes.size() == 0) throw new CheckpointException(path, "empty file");

        byte[] head = probe(path);
        if (isZip(head)) return PthCheckpoint.open(path, preferredWrapper);
        // The header length alone can be anything (even corrupt); its first JSON byte identifies the format, and the
        // file name settles files too short or too damaged to tell, so that they get safetensors' precise error.
        if ((head.length > 8 && head[8] == '{') || path.getFileName().toString().endsWith(".safetensors")) {
            return SafetensorsCheckpoint.open(path);
        }
        if (isLegacyTorch(head)) {
            throw new CheckpointException(
                    path,
                    "legacy torch.save format (PyTorch before 1.6) is not supported; "
                            + "re-save it with a current PyTorch: torch.save(torch.load(f), f2)");
        }
        throw new CheckpointException(path, "not a PyTorch zip checkpoint or safetensors file");
    }

    private static byte[] probe(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(PROBE_BYTES);
        } catch (AccessDeniedException e) {
            throw new CheckpointException(path, "permission denied", e);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot read (" + e + ")", e);
        }
    }

    private static boolean isZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /** The legacy format begins with a pickled magic number: PROTO 2, LONG1 of 10 bytes. */
    private static boolean isLegacyTorch(byte[] head) {
        return head.length >= 4
                && (head[0] & 0xff) == 0x80
                && head[1] == 2
                && (head[2] & 0xff) == 0x8a
                && head[3] == 10;
    }
}
