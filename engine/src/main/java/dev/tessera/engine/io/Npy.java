package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * NumPy's {@code .npy} format (versions 1, 2 and 3): the magic {@code \x93NUMPY}, a version byte pair, a
 * little-endian header length (u16 in version 1, u32 after), an ASCII Python dict literal with {@code descr},
 * {@code fortran_order} and {@code shape}, then the raw row-major data.
 *
 * <p>Numeric arrays map to {@link Tensor}s: {@code <f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 |b1}. Unicode string arrays
 * ({@code <U}n) are read and written as Java strings, for small metadata such as a preprocessing mode. Big-endian
 * and Fortran-ordered arrays are refused with a message saying how to re-save them. Sizes in the header are
 * untrusted and checked before anything is allocated.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy aligns the data to 64 bytes; so do we. */
    private static final int ALIGN = 64;
    /** Largest header we accept: real ones are well under a kilobyte. */
    private static final int MAX_HEADER = 1 << 16;
    /** Largest array read at once into a Java array. */
    private static final long MAX_READ_FULLY = Integer.MAX_VALUE - 64;

    private static final Map<String, DType> DESCR = Map.of(
            "<f8",
            DType.F64,
            "<f4",
            DType.F32,
            "<f2",
            DType.F16,
            "<i8",
            DType.I64,
            "<i4",
            DType.I32,
            "<i2",
            DType.I16,
            "|i1",
            DType.I8,
            "|u1",
            DType.U8,
            "|b1",
            DType.BOOL);

    private Npy() {}

    /**
     * A parsed header.
     *
     * @param descr       numpy's type string, e.g. {@code <f4}
     * @param dtype       the tensor dtype, or null for a string array
     * @param stringChars characters per element of a {@code <U} array (0 otherwise)
     * @param shape       row-major shape ({@code []} for a 0-d array)
     */
    public record Header(String descr, DType dtype, int stringChars, long[] shape) {
        public long elements() {
            return Tensor.numel(shape);
        }

        public long itemBytes() {
            return dtype != null ? dtype.byteSize() : 4L * stringChars;
        }

        public long dataBytes() {
            return Math.multiplyExact(elements(), itemBytes());
        }

        /** Bytes of one row (the product of every dimension but the first), for streaming reads. */
        public long rowBytes() {
            long n = itemBytes();
            for (int i = 1; i < shape.length; i++) n = Math.multiplyExact(n, shape[i]);
            return n;
        }

        @Override
        public String toString() {
            return descr + " " + Arrays.toString(shape);
        }
    }

    /** Reads and validates a header; {@code where} names the file (and member) in error messages. */
    public static Header readHeader(InputStream in, String where) throws IOException {
        byte[] head = readExactly(in, 8, where);
        if (!Arrays.equals(Arrays.copyOf(head, 6), MAGIC))
            throw new TesseraException(where + ": not a .npy array (no \\x93NUMPY magic)");
        int major = head[6] & 0xff;
        long length;
        if (major == 1) {
            byte[] b = readExactly(in, 2, where);
            length = (b[0] & 0xff) | (b[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] b = readExactly(in, 4, where);
            length = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
        } else {
            throw new TesseraException(where + ": unsupported .npy version " + major + "." + (head[7] & 0xff));
        }
        if (length > MAX_HEADER) throw new TesseraException(where + ": .npy header of " + length + " bytes is corrupt");
        String dict = new String(
                readExactly(in, (int) length, where),
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return parse(dict.strip(), where);
    }

    private static Header parse(String dict, String where) {
        String descr = stringField(dict, "descr", where);
        String fortran = rawField(dict, "fortran_order", where);
        if (fortran.startsWith("True")) {
            throw new TesseraException(where + ": Fortran-ordered array; re-save it C-ordered (np.ascontiguousarray)");
        }
        if (!fortran.startsWith("False")) throw new TesseraException(where + ": bad fortran_order in .npy header");
        long[] shape = shapeField(dict, where);
        DType dtype = DESCR.get(descr);
        int chars = 0;
        if (dtype == null) {
            if (descr.startsWith(">") && descr.length() > 2 && !descr.endsWith("1")) {
                throw new TesseraException(where + ": big-endian array (" + descr
                        + "); re-save it little-endian (a.astype('<" + descr.substring(1) + "'))");
            }
            if (descr.startsWith("<U")) {
                try {
                    chars = Integer.parseInt(descr.substring(2));
                } catch (NumberFormatException e) {
                    chars = -1;
                }
            }
            if (chars <= 0)
                throw new TesseraException(where + ": unsupported array type '" + Untrusted.text(descr) + "'");
        }
        for (long d : shape) {
            if (d < 0) throw new TesseraException(where + ": negative dimension in shape " + Arrays.toString(shape));
        }
        Header h = new Header(descr, dtype, chars, shape);
        try {
            h.dataBytes();
        } catch (ArithmeticException e) {
            throw new TesseraException(where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        return h;
    }

    private static String rawField(String dict, String key, String where) {
        int at = dict.indexOf("'" + key + "'");
        if (at < 0) throw new TesseraException(where + ": .npy header has no '" + key + "'");
        int colon = dict.indexOf(':', at);
        if (colon < 0) throw new TesseraException(where + ": malformed .npy header");
        return dict.substring(colon + 1).stripLeading();
    }

    private static String stringField(String dict, String key, String where) {
        String rest = rawField(dict, key, where);
        if (rest.isEmpty() || (rest.charAt(0) != '\'' && rest.charAt(0) != '"')) {
            throw new TesseraException(where + ": malformed '" + key + "' in .npy header");
        }
        int end = rest.indexOf(rest.charAt(0), 1);
        if (end < 0) throw new TesseraException(where + ": malformed '" + key + "' in .npy header");
        return rest.substring(1, end);
    }

    private static long[] shapeField(String dict, String where) {
        String rest = rawField(dict, "shape", where);
        int close = rest.indexOf(')');
        if (!rest.startsWith("(") || close < 0)
            throw new TesseraException(where + ": malformed 'shape' in .npy header");
        List<Long> dims = new ArrayList<>();
        for (String part : rest.substring(1, close).split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) p = p.substring(0, p.length() - 1); // Python 2 longs
            if (p.isEmpty()) continue;
            try {
                dims.add(Long.parseLong(p));
            } catch (NumberFormatException e) {
                throw new TesseraException(where + ": malformed 'shape' in .npy header");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    /** Reads a whole numeric array (header and data) into a heap tensor named {@code name}. */
    public static Tensor read(InputStream in, String name, String where) throws IOException {
        Header h = readHeader(in, where);
        return readData(in, h, name, where);
    }

    /** Reads the data of a numeric array whose header has just been read. */
    public static Tensor readData(InputStream in, Header h, String name, String where) throws IOException {
        if (h.dtype() == null)
            throw new TesseraException(where + ": '" + name + "' is a string array, expected numbers");
        if (h.dataBytes() > MAX_READ_FULLY) {
            throw new TesseraException(where + ": '" + name + "' " + h + " is too large to load at once");
        }
        byte[] data = readExactly(in, (int) h.dataBytes(), where);
        return new Tensor(name, h.dtype(), h.shape(), MemorySegment.ofArray(data));
    }

    /** Reads the data of a {@code <U} array whose header has just been read: its single element, or an error. */
    public static String readString(InputStream in, Header h, String where) throws IOException {
        if (h.dtype() != null || h.elements() != 1) {
            throw new TesseraException(where + ": expected a single string, found " + h);
        }
        byte[] utf32 = readExactly(in, (int) h.dataBytes(), where);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i + 3 < utf32.length; i += 4) {
            int cp = (utf32[i] & 0xff)
                    | (utf32[i + 1] & 0xff) << 8
                    | (utf32[i + 2] & 0xff) << 16
                    | (utf32[i + 3] & 0xff) << 24;
            if (cp == 0) break; // numpy pads short strings with NUL
            if (!Character.isValidCodePoint(cp))
                throw new TesseraException(where + ": invalid character in string array");
            s.appendCodePoint(cp);
        }
        return s.toString();
    }

    /** The header bytes (magic to newline) for an array, padded so that the data starts 64-byte aligned. */
    public static byte[] header(String descr, long[] shape) {
        return header(descr, shape, 0);
    }

    /**
     * The header with at least {@code minBytes} bytes in all (for files whose header is rewritten in place as
     * rows are appended: reserve room for the largest shape text).
     */
    static byte[] header(String descr, long[] shape, int minBytes) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++)
            dims.append(shape[i]).append(i == 0 && shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        dims.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int prefix = 10; // magic, version, u16 length
        int total = Math.max(minBytes, prefix + dict.length() + 1);
        total = (total + ALIGN - 1) / ALIGN * ALIGN;
        if (total - prefix > 0xffff) throw new IllegalArgumentException("header too long");
        byte[] out = new byte[total];
        System.arraycopy(MAGIC, 0, out, 0, 6);
        out[6] = 1;
        out[7] = 0;
        int len = total - prefix;
        out[8] = (byte) len;
        out[9] = (byte) (len >>> 8);
        byte[] text = dict.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, out, prefix, text.length);
        Arrays.fill(out, prefix + text.length, total - 1, (byte) ' ');
        out[total - 1] = '\n';
        return out;
    }

    /** numpy's type string for a dtype. */
    public static String descr(DType dtype) {
        for (Map.Entry<String, DType> e : DESCR.entrySet()) {
            if (e.getValue() == dtype) return e.getKey();
        }
        throw new IllegalArgumentException("no .npy type for " + dtype);
    }

    /** Writes a tensor as a complete {@code .npy} stream. */
    public static void write(OutputStream out, Tensor t) throws IOException {
        out.write(header(descr(t.dtype()), t.shape()));
        MemorySegment data = t.data();
        byte[] chunk = new byte[1 << 20];
        for (long at = 0; at < data.byteSize(); at += chunk.length) {
            int n = (int) Math.min(chunk.length, data.byteSize() - at);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at, chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    /** Writes a 0-d unicode array holding {@code s} (numpy reads it as {@code array('...', dtype='<Un')}). */
    public static void writeString(OutputStream out, String s) throws IOException {
        int[] cps = s.codePoints().toArray();
        out.write(header("<U" + Math.max(1, cps.length), new long[0]));
        byte[] data = new byte[4 * Math.max(1, cps.length)];
        for (int i = 0; i < cps.length; i++) {
            data[4 * i] = (byte) cps[i];
            data[4 * i + 1] = (byte) (cps[i] >>> 8);
            data[4 * i + 2] = (byte) (cps[i] >>> 16);
            data[4 * i + 3] = (byte) (cps[i] >>> 24);
        }
        out.write(data);
    }

    /** Reads a whole numeric {@code .npy} file. */
    public static Tensor readFile(Path file, String name) {
        if (!Files.isRegularFile(file)) throw new TesseraException(file + ": no such file");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(in, name, file.toString());
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Writes a tensor as a {@code .npy} file (complete or not at all). */
    public static void writeFile(Path file, Tensor t) {
        AtomicFiles.write(file, os -> {
            try (OutputStream out = new BufferedOutputStream(os, 1 << 16)) {
                write(out, t);
            }
        });
    }

    static byte[] readExactly(InputStream in, int n, String where) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n)
            throw new EOFException(where + ": truncated .npy data (" + b.length + " of " + n + " bytes)");
        return b;
    }
}
