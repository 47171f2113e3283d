package dev.tessera.engine.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes pickle programs opcode by opcode, the way {@code torch.save} (protocol 2) does, so that tests can build
 * checkpoints with exactly the content they need, including hostile ones.
 */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter proto(int protocol) {
        return op(0x80).op(protocol);
    }

    PickleWriter global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleWriter stackGlobal(String module, String name) {
        return string(module).string(name).op(0x93);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter tuple() {
        return op('t');
    }

    PickleWriter tuple1() {
        return op(0x85);
    }

    PickleWriter tuple2() {
        return op(0x86);
    }

    PickleWriter emptyTuple() {
        return op(')');
    }

    PickleWriter emptyDict() {
        return op('}');
    }

    PickleWriter emptyList() {
        return op(']');
    }

    PickleWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        int n = b.length;
        out.write(n);
        out.write(n >>> 8);
        out.write(n >>> 16);
        out.write(n >>> 24);
        out.writeBytes(b);
        return this;
    }

    /** BININT1 / BININT for small values, LONG1 otherwise (as Python does). */
    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) return op('K').op((int) v);
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }
        op(0x8a).op(8);
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    PickleWriter bool(boolean b) {
        return op(b ? 0x88 : 0x89);
    }

    PickleWriter none() {
        return op('N');
    }

    PickleWriter reduce() {
        return op('R');
    }

    PickleWriter newobj() {
        return op(0x81);
    }

    PickleWriter build() {
        return op('b');
    }

    PickleWriter setitem() {
        return op('s');
    }

    PickleWriter setitems() {
        return op('u');
    }

    PickleWriter append() {
        return op('a');
    }

    PickleWriter binput(int index) {
        return op('q').op(index);
    }

    PickleWriter binget(int index) {
        return op('h').op(index);
    }

    PickleWriter stop() {
        return op('.');
    }

    /** Any raw byte, for malformed programs. */
    PickleWriter op(int b) {
        out.write(b);
        return this;
    }

    /** The persistent id {@code ('storage', torch.<storageClass>, key, 'cpu', numel)} and BINPERSID. */
    PickleWriter storage(String storageClass, String key, long numel) {
        mark().string("storage")
                .global("torch", storageClass)
                .string(key)
                .string("cpu")
                .integer(numel)
                .tuple();
        return op('Q');
    }

    PickleWriter ints(long... values) {
        mark();
        for (long v : values) integer(v);
        return tuple();
    }

    /**
     * {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}, leaving the
     * tensor on the stack.
     */
    PickleWriter tensor(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark().storage(storageClass, key, numel)
                .integer(offset)
                .ints(size)
                .ints(stride)
                .bool(false);
        global("collections", "OrderedDict").emptyTuple().reduce();
        return tuple().reduce();
    }

    /** A contiguous float tensor over a whole FloatStorage. */
    PickleWriter floatTensor(String key, long... size) {
        return tensor("FloatStorage", key, numel(size), 0, size, contiguousStrides(size));
    }

    static long numel(long... size) {
        long n = 1;
        for (long d : size) n *= d;
        return n;
    }

    static long[] contiguousStrides(long... size) {
        long[] stride = new long[size.length];
        long s = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            stride[i] = s;
            s *= size[i];
        }
        return stride;
    }

    byte[] toBytes() {
        return out.toByteArray();
    }
}
