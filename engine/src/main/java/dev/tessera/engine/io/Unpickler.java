package dev.tessera.engine.io;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle (protocols 2 to 5) interpreter restricted to what {@code torch.save} writes. It is a pure data decoder:
 * GLOBAL and STACK_GLOBAL resolve names through the allow-list in {@link PickleGlobals}, REDUCE / NEWOBJ / BUILD
 * only ever build Java data (dicts, lists, {@link TensorRef}s, inert {@link PickleObject}s), and BINPERSID decodes
 * storage references. No class is loaded and no code runs because of the file's content.
 *
 * <p>Python values map to: dict → {@link java.util.LinkedHashMap} (insertion order), list → {@link ArrayList},
 * tuple → unmodifiable {@link List}, str → {@link String}, int → {@link Long} (or {@link BigInteger} when
 * larger), float → {@link Double}, bool → {@link Boolean}, None → null, bytes → {@code byte[]}.
 */
final class Unpickler {
    private static final int HIGHEST_PROTOCOL = 5;
    /** Longest GLOBAL line accepted (module or qualified name); real ones are a few dozen characters. */
    private static final int MAX_GLOBAL_LINE = 1024;

    // Opcodes, named as in CPython's pickle module.
    private static final int MARK = '(';
    private static final int STOP = '.';
    private static final int POP = '0';
    private static final int POP_MARK = '1';
    private static final int DUP = '2';
    private static final int BININT = 'J';
    private static final int BININT1 = 'K';
    private static final int BININT2 = 'M';
    private static final int NONE = 'N';
    private static final int BINPERSID = 'Q';
    private static final int REDUCE = 'R';
    private static final int BINSTRING = 'T';
    private static final int SHORT_BINSTRING = 'U';
    private static final int BINUNICODE = 'X';
    private static final int APPEND = 'a';
    private static final int BUILD = 'b';
    private static final int GLOBAL = 'c';
    private static final int DICT = 'd';
    private static final int EMPTY_DICT = '}';
    private static final int APPENDS = 'e';
    private static final int BINGET = 'h';
    private static final int LONG_BINGET = 'j';
    private static final int LIST = 'l';
    private static final int EMPTY_LIST = ']';
    private static final int BINPUT = 'q';
    private static final int LONG_BINPUT = 'r';
    private static final int SETITEM = 's';
    private static final int TUPLE = 't';
    private static final int EMPTY_TUPLE = ')';
    private static final int SETITEMS = 'u';
    private static final int BINFLOAT = 'G';
    private static final int PROTO = 0x80;
    private static final int NEWOBJ = 0x81;
    private static final int TUPLE1 = 0x85;
    private static final int TUPLE2 = 0x86;
    private static final int TUPLE3 = 0x87;
    private static final int NEWTRUE = 0x88;
    private static final int NEWFALSE = 0x89;
    private static final int LONG1 = 0x8a;
    private static final int LONG4 = 0x8b;
    private static final int BINBYTES = 'B';
    private static final int SHORT_BINBYTES = 'C';
    private static final int SHORT_BINUNICODE = 0x8c;
    private static final int BINUNICODE8 = 0x8d;
    private static final int BINBYTES8 = 0x8e;
    private static final int EMPTY_SET = 0x8f;
    private static final int ADDITEMS = 0x90;
    private static final int FROZENSET = 0x91;
    private static final int NEWOBJ_EX = 0x92;
    private static final int STACK_GLOBAL = 0x93;
    private static final int MEMOIZE = 0x94;
    private static final int FRAME = 0x95;
    private static final int BYTEARRAY8 = 0x96;

    private final Path file;
    private final String programName;
    private final byte[] program;
    private int pos;
    private final ArrayList<Object> stack = new ArrayList<>();
    /** Stack heights at each MARK, innermost last. */
    private final ArrayDeque<Integer> marks = new ArrayDeque<>();

    private final Map<Long, Object> memo = new HashMap<>();

    /**
     * @param file        the checkpoint, for error messages
     * @param programName the zip entry holding the program, for error messages
     */
    Unpickler(Path file, String programName, byte[] program) {
        this.file = file;
        this.programName = programName;
        this.program = program;
    }

    /** Runs the program to its STOP opcode and returns the unpickled object. */
    Object load() {
        int opStart = 0;
        try {
            while (true) {
                if (pos >= program.length) throw PickleException.malformed("the program ends without STOP");
                opStart = pos;
                int op = program[pos++] & 0xff;
                if (op == STOP) return pop();
                execute(op);
            }
        } catch (PickleException e) {
            if (!e.isMalformed()) throw new CheckpointException(file, e.getMessage());
            throw new CheckpointException(
                    file,
                    "malformed checkpoint pickle '" + Untrusted.text(programName) + "' (" + e.getMessage()
                            + ", opcode at byte " + opStart + ")");
        }
    }

    private void execute(int op) {
        switch (op) {
            case PROTO -> {
                int protocol = u8();
                if (protocol > HIGHEST_PROTOCOL)
                    throw PickleException.malformed(
                            "pickle protocol " + protocol + " is not supported (at most " + HIGHEST_PROTOCOL + ")");
            }
            case FRAME -> bytes(8); // framing is only a buffering hint for streaming readers
            case MARK -> marks.push(stack.size());
            case POP -> {
                if (!marks.isEmpty() && marks.peek() == stack.size()) marks.pop();
                else pop();
            }
            case POP_MARK -> popMark();
            case DUP -> push(peek());

            case NONE -> push(null);
            case NEWTRUE -> push(Boolean.TRUE);
            case NEWFALSE -> push(Boolean.FALSE);
            case BININT -> push((long) i32());
            case BININT1 -> push((long) u8());
            case BININT2 -> push((long) (u8() | u8() << 8));
            case LONG1 -> push(littleEndianInteger(u8()));
            case LONG4 -> push(littleEndianInteger(length(i32())));
            case BINFLOAT -> push(Double.longBitsToDouble(bigEndianLong()));

            case BINUNICODE -> push(utf8(length(i32())));
            case SHORT_BINUNICODE -> push(utf8(u8()));
            case BINUNICODE8 -> push(utf8(length(i64())));
            case BINSTRING -> push(latin1(length(i32())));
            case SHORT_BINSTRING -> push(latin1(u8()));
            case BINBYTES -> push(bytes(length(i32())));
            case SHORT_BINBYTES -> push(bytes(u8()));
            case BINBYTES8, BYTEARRAY8 -> push(bytes(length(i64())));

            case EMPTY_TUPLE -> push(tuple(List.of()));
            case TUPLE -> push(tuple(popMark()));
            case TUPLE1 -> push(tuple(popN(1)));
            case TUPLE2 -> push(tuple(popN(2)));
            case TUPLE3 -> push(tuple(popN(3)));
            case EMPTY_LIST -> push(new ArrayList<>());
            case LIST -> push(new ArrayList<>(popMark()));
            case EMPTY_DICT -> push(new LinkedHashMap<Object, Object>());
            case DICT -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                setItems(map, popMark());
                push(map);
            }
            case EMPTY_SET -> push(new PickleObject("builtins.set", List.of()));
            case FROZENSET -> {
                PickleObject set = new PickleObject("builtins.frozenset", List.of());
                set.listItems().addAll(popMark());
                push(set);
            }
            case ADDITEMS -> {
                List<Object> items = popMark();
                if (!(peek() instanceof PickleObject set)) throw PickleException.malformed("ADDITEMS on a non-set");
                set.listItems().addAll(items);
            }
            case APPEND -> append(Collections.singletonList(pop()));
            case APPENDS -> append(popMark());
            case SETITEM -> {
                List<Object> kv = popN(2);
                setItems(peek(), kv);
            }
            case SETITEMS -> {
                List<Object> items = popMark();
                setItems(peek(), items);
            }

            case BINPUT -> memo.put((long) u8(), peek());
            case LONG_BINPUT -> memo.put(Integer.toUnsignedLong(i32()), peek());
            case MEMOIZE -> memo.put((long) memo.size(), peek());
            case BINGET -> push(memoGet(u8()));
            case LONG_BINGET -> push(memoGet(Integer.toUnsignedLong(i32())));

            case GLOBAL -> {
                String module = line();
                String name = line();
                push(PickleGlobals.resolve(module, name));
            }
            case STACK_GLOBAL -> {
                Object name = pop();
                Object module = pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw PickleException.malformed("STACK_GLOBAL needs two strings");
                }
                push(PickleGlobals.resolve(m, n));
            }
            case REDUCE -> {
                Object args = pop();
                Object callable = pop();
                push(PickleGlobals.call(callable, arguments(args)));
            }
            case NEWOBJ -> {
                Object args = pop();
                Object cls = pop();
                push(PickleGlobals.instantiate(cls, arguments(args)));
            }
            case NEWOBJ_EX -> {
                pop(); // keyword arguments: placeholders keep positional arguments only
                Object args = pop();
                Object cls = pop();
                push(PickleGlobals.instantiate(cls, arguments(args)));
            }
            case BUILD -> build(pop(), peek());
            case BINPERSID -> push(TorchStorage.fromPersistentId(pop()));
            default ->
                throw PickleException.malformed(
                        String.format("opcode 0x%02x is not one torch.save writes (protocols 2 to 5)", op));
        }
    }

    /**
     * BUILD normally calls {@code obj.__setstate__(state)}. Placeholders just keep the state; for dicts
     * (an OrderedDict's {@code _metadata}) and tensors (hooks, subclass attributes) it is dropped.
     */
    private static void build(Object state, Object target) {
        if (target instanceof PickleObject o) o.setState(state);
    }

    private void append(List<Object> items) {
        Object target = peek();
        if (target instanceof ArrayList<?>) {
            @SuppressWarnings("unchecked")
            ArrayList<Object> list = (ArrayList<Object>) target;
            list.addAll(items);
        } else if (target instanceof PickleObject o) {
            o.listItems().addAll(items);
        } else {
            throw PickleException.malformed("APPEND to " + PickleGlobals.describe(target));
        }
    }

    private static void setItems(Object target, List<Object> keysAndValues) {
        if (keysAndValues.size() % 2 != 0) throw PickleException.malformed("SETITEMS with an odd number of items");
        Map<Object, Object> map;
        if (target instanceof Map<?, ?>) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> m = (Map<Object, Object>) target;
            map = m;
        } else if (target instanceof PickleObject o) {
            map = o.dictItems();
        } else {
            throw PickleException.malformed("SETITEM on " + PickleGlobals.describe(target));
        }
        for (int i = 0; i < keysAndValues.size(); i += 2) {
            map.put(dictKey(keysAndValues.get(i)), keysAndValues.get(i + 1));
        }
    }

    /**
     * A dict key usable in a Java map. Scalars and tuples of scalars compare by value, as in Python. Anything else
     * (unhashable in Python, or deep) is keyed by identity, so that hashing can never recurse without bound on a
     * hostile, self-referencing structure.
     */
    static Object dictKey(Object key) {
        if (isScalar(key)) return key;
        if (key instanceof List<?> t
                && !(key instanceof ArrayList<?>)
                && t.stream().allMatch(Unpickler::isScalar)) {
            return key;
        }
        return new IdentityKey(key);
    }

    private static boolean isScalar(Object v) {
        return v == null
                || v instanceof String
                || v instanceof Long
                || v instanceof BigInteger
                || v instanceof Double
                || v instanceof Boolean;
    }

    /** A dict key compared by identity; see {@link #dictKey}. */
    record IdentityKey(Object value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof IdentityKey k && k.value == value;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(value);
        }

        @Override
        public String toString() {
            return PickleGlobals.describe(value);
        }
    }

    private static List<Object> arguments(Object args) {
        if (!(args instanceof List<?> list)) {
            throw PickleException.malformed("call arguments are " + PickleGlobals.describe(args) + ", not a tuple");
        }
        return new ArrayList<>(list);
    }

    /** Tuples are unmodifiable lists (that allow None), which also tells them apart from Python lists. */
    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(Arrays.asList(items.toArray()));
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) throw PickleException.malformed("memo entry " + index + " read before written");
        return memo.get(index);
    }

    // --- stack ---

    private void push(Object v) {
        stack.add(v);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) throw PickleException.malformed("stack underflow");
        return stack.removeLast();
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) throw PickleException.malformed("stack underflow");
        return stack.getLast();
    }

    /** The top {@code n} items, bottom first. */
    private List<Object> popN(int n) {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() - floor < n) throw PickleException.malformed("stack underflow");
        List<Object> view = stack.subList(stack.size() - n, stack.size());
        List<Object> items = new ArrayList<>(view);
        view.clear();
        return items;
    }

    /** Everything above the innermost MARK, bottom first; removes that mark. */
    private List<Object> popMark() {
        if (marks.isEmpty()) throw PickleException.malformed("no MARK to pop to");
        int mark = marks.pop();
        List<Object> view = stack.subList(mark, stack.size());
        List<Object> items = new ArrayList<>(view);
        view.clear();
        return items;
    }

    // --- operand decoding (every read is checked against the program length) ---

    private void need(long n) {
        if (n < 0 || n > program.length - pos) {
            throw PickleException.malformed("an operand of " + n + " bytes runs past the end of the program");
        }
    }

    private int u8() {
        need(1);
        return program[pos++] & 0xff;
    }

    private int i32() {
        need(4);
        int v = (program[pos] & 0xff)
                | (program[pos + 1] & 0xff) << 8
                | (program[pos + 2] & 0xff) << 16
                | (program[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long i64() {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (program[pos + i] & 0xff);
        pos += 8;
        return v;
    }

    private long bigEndianLong() {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | (program[pos + i] & 0xff);
        pos += 8;
        return v;
    }

    /** A length operand, checked to fit in what is left of the program before anything is allocated. */
    private int length(long n) {
        need(n);
        return (int) n;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] out = Arrays.copyOfRange(program, pos, pos + n);
        pos += n;
        return out;
    }

    private String utf8(int n) {
        need(n);
        String s = new String(program, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    private String latin1(int n) {
        need(n);
        String s = new String(program, pos, n, StandardCharsets.ISO_8859_1);
        pos += n;
        return s;
    }

    /** LONG1/LONG4: two's-complement little-endian; a Long when it fits, else a BigInteger. */
    private Object littleEndianInteger(int n) {
        byte[] le = bytes(n);
        if (n == 0) return 0L;
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) be[i] = le[n - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    /** A newline-terminated ASCII line (GLOBAL operands). */
    private String line() {
        int limit = Math.min(program.length, pos + MAX_GLOBAL_LINE);
        for (int i = pos; i < limit; i++) {
            if (program[i] == '\n') {
                String s = new String(program, pos, i - pos, StandardCharsets.UTF_8);
                pos = i + 1;
                return s;
            }
        }
        throw PickleException.malformed("a GLOBAL name is not newline-terminated");
    }
}
