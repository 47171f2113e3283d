package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zip64 {@code .pth} larger than 4 GiB, laid out as PyTorch's writer does it (zip64 end records, saturated
 * 32-bit fields with zip64 extra fields, a local extra field padded for alignment). The file is sparse: only its
 * headers and a few known values occupy disk, so the test takes milliseconds.
 */
class LargeFileTest {
    private static final long BIG_ELEMENTS = (4L << 30) / 4 + 16; // just over 4 GiB of float32

    @TempDir
    Path dir;

    @Test
    void zip64CheckpointBeyondFourGiB() throws IOException {
        // Sparse files cost no space, but should the file system not support them the file would really be 4 GiB.
        Assumptions.assumeTrue(
                Files.getFileStore(dir).getUsableSpace() > (12L << 30),
                "SKIPPED: less than 12 GiB free in " + dir + " for the sparse 4 GiB zip64 test file");
        PickleWriter p = new PickleWriter().proto(2).emptyDict().mark();
        p.string("big").tensor("FloatStorage", "0", BIG_ELEMENTS, 0, new long[] {BIG_ELEMENTS}, new long[] {1});
        p.string("small").tensor("LongStorage", "1", 3, 0, new long[] {3}, new long[] {1});
        byte[] pickle = p.setitems().stop().toBytes();

        Path file = dir.resolve("big.pth");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Zip64Writer zip = new Zip64Writer(ch);
            zip.entry("big/data.pkl", ByteBuffer.wrap(pickle), pickle.length);
            long bigData = zip.entry("big/data/0", null, BIG_ELEMENTS * 4); // a hole, apart from two values
            write(ch, bigData, le(4).putFloat(0, 1.5f));
            write(ch, bigData + (BIG_ELEMENTS - 1) * 4, le(4).putFloat(0, -7f));
            ByteBuffer small = le(24).putLong(0, 11).putLong(8, -22).putLong(16, 33);
            long smallData = zip.entry("big/data/1", small, 24);
            assertEquals(true, smallData > 0xffffffffL, "the second storage starts beyond 4 GiB");
            zip.finish();
        }
        try (Checkpoint c = Checkpoints.open(file)) {
            assertEquals(List.of("big", "small"), new ArrayList<>(c.keys()));
            Tensor big = c.tensor("big", BIG_ELEMENTS);
            assertEquals(DType.F32, big.dtype());
            assertEquals(1.5f, big.getFloat(0), 0f);
            assertEquals(0f, big.getFloat(BIG_ELEMENTS / 2), 0f);
            assertEquals(-7f, big.getFloat(BIG_ELEMENTS - 1), 0f);
            assertArrayEquals(new long[] {11, -22, 33}, c.tensor("small", 3).toLongArray());
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void write(FileChannel ch, long position, ByteBuffer b) throws IOException {
        b.rewind();
        while (b.hasRemaining()) position += ch.write(b, position);
    }

    /** A minimal zip64 writer: STORED entries, every size and offset through zip64 extra fields. */
    private static final class Zip64Writer {
        private final FileChannel ch;
        private final ByteBuffer central = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private int count;
        private long position;

        Zip64Writer(FileChannel ch) {
            this.ch = ch;
        }

        /** Writes a local header and (unless {@code data} is null: a hole) the data; returns the data offset. */
        long entry(String name, ByteBuffer data, long size) throws IOException {
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            long headerOffset = position;
            // Local header: zip64 extra with both sizes, then PyTorch-style "FB" padding to 64-byte alignment.
            int unpadded = 30 + nameBytes.length + 20 + 4;
            int padding = (int) ((64 - (headerOffset + unpadded) % 64) % 64);
            ByteBuffer local = le(unpadded + padding);
            local.putInt(0x04034b50)
                    .putShort((short) 45)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt(0)
                    .putInt(0xffffffff)
                    .putInt(0xffffffff)
                    .putShort((short) nameBytes.length)
                    .putShort((short) (20 + 4 + padding))
                    .put(nameBytes)
                    .putShort((short) 1)
                    .putShort((short) 16)
                    .putLong(size)
                    .putLong(size)
                    .putShort((short) 0x4246)
                    .putShort((short) padding);
            write(ch, headerOffset, local);
            long dataOffset = headerOffset + local.capacity();
            if (data != null) write(ch, dataOffset, data);
            position = dataOffset + size;

            // Central record: every size/offset saturated, real values in the zip64 extra field.
            central.putInt(0x02014b50)
                    .putShort((short) 45)
                    .putShort((short) 45)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt(0)
                    .putInt(0xffffffff)
                    .putInt(0xffffffff)
                    .putShort((short) nameBytes.length)
                    .putShort((short) 28)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putInt(0)
                    .putInt(0xffffffff)
                    .put(nameBytes)
                    .putShort((short) 1)
                    .putShort((short) 24)
                    .putLong(size)
                    .putLong(size)
                    .putLong(headerOffset);
            count++;
            return dataOffset;
        }

        void finish() throws IOException {
            long directoryOffset = position;
            int directorySize = central.position();
            ByteBuffer tail = le(directorySize + 56 + 20 + 22);
            tail.put(central.flip());
            long zip64End = directoryOffset + directorySize;
            tail.putInt(0x06064b50)
                    .putLong(44)
                    .putShort((short) 45)
                    .putShort((short) 45)
                    .putInt(0)
                    .putInt(0)
                    .putLong(count)
                    .putLong(count)
                    .putLong(directorySize)
                    .putLong(directoryOffset);
            tail.putInt(0x07064b50).putInt(0).putLong(zip64End).putInt(1);
            tail.putInt(0x06054b50)
                    .putShort((short) 0)
                    .putShort((short) 0)
                    .putShort((short) count)
                    .putShort((short) count)
                    .putInt(directorySize)
                    .putInt(0xffffffff)
                    .putShort((short) 0);
            write(ch, directoryOffset, tail);
        }
    }
}
