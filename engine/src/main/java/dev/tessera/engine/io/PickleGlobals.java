package dev.tessera.engine.io;

import dev.tessera.engine.tensor.DType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The allow-list of Python globals a {@code .pth} pickle may name, and what "calling" each one means on the Java
 * side. Python pickles can name any importable callable (e.g. {@code os.system}) and have the loader call it; here
 * a global that is not listed is refused outright, and listed ones only ever build plain data: dicts, tensor
 * descriptions, or inert {@link PickleObject} placeholders. Nothing from the file is executed or instantiated.
 */
final class PickleGlobals {

    /** What a global does when a pickle calls it (REDUCE) or instantiates it (NEWOBJ). */
    enum Kind {
        /** {@code collections.OrderedDict}, {@code collections.defaultdict}: an empty (ordered) dict. */
        DICT,
        REBUILD_TENSOR_V2,
        REBUILD_TENSOR,
        REBUILD_PARAMETER,
        REBUILD_PARAMETER_WITH_STATE,
        /** {@code torch._tensor._rebuild_from_type_v2(func, type, args, state)}: calls the allowed {@code func}. */
        REBUILD_FROM_TYPE_V2,
        /** {@code torch.FloatStorage} and friends: only meaningful inside persistent ids. */
        STORAGE,
        /** {@code torch.Size(tuple)}: the tuple itself. */
        SIZE,
        /** {@code torch.device(type[, index])}: a string such as {@code "cuda:0"}. */
        DEVICE,
        /** Anything else allowed: calling it records an inert placeholder. */
        INERT
    }

    private static final Map<String, PickleGlobal> ALLOWED = new HashMap<>();

    static {
        allow("collections", "OrderedDict", Kind.DICT);
        // A dict subclass; its default factory (a type such as builtins.list) is irrelevant to loading.
        allow("collections", "defaultdict", Kind.DICT);
        allow("torch._utils", "_rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2);
        allow("torch._utils", "_rebuild_tensor", Kind.REBUILD_TENSOR);
        allow("torch._utils", "_rebuild_parameter", Kind.REBUILD_PARAMETER);
        allow("torch._utils", "_rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE);
        allow("torch._tensor", "_rebuild_from_type_v2", Kind.REBUILD_FROM_TYPE_V2);
        allowStorage("FloatStorage", DType.F32);
        allowStorage("HalfStorage", DType.F16);
        allowStorage("BFloat16Storage", DType.BF16);
        allowStorage("DoubleStorage", DType.F64);
        allowStorage("LongStorage", DType.I64);
        allowStorage("IntStorage", DType.I32);
        allowStorage("ShortStorage", DType.I16);
        allowStorage("CharStorage", DType.I8);
        allowStorage("ByteStorage", DType.U8);
        allowStorage("BoolStorage", DType.BOOL);
        allow("torch", "Size", Kind.SIZE);
        allow("torch", "device", Kind.DEVICE);

        // Tensor types passed to _rebuild_from_type_v2 as its 'type' argument.
        allowInert("torch", "Tensor");
        allowInert("torch._tensor", "Tensor");
        allowInert("torch.nn.parameter", "Parameter");
        allowInert("torch.nn.parameter", "Buffer");
        // torch dtypes (e.g. a training config's dtype), plain values.
        for (String dtype : List.of(
                "float32",
                "float",
                "float16",
                "half",
                "bfloat16",
                "float64",
                "double",
                "int64",
                "long",
                "int32",
                "int",
                "int16",
                "short",
                "int8",
                "uint8",
                "bool")) {
            allowInert("torch", dtype);
        }
        // torch.__version__ stored in checkpoints is a str subclass.
        allowInert("torch.torch_version", "TorchVersion");

        // Objects in training checkpoints ('args', RNG states, bookkeeping); none of them holds weights.
        allowInert("argparse", "Namespace");
        allowInert("builtins", "set");
        allowInert("builtins", "frozenset");
        allowInert("builtins", "slice");
        allowInert("builtins", "complex");
        allowInert("builtins", "bytearray");
        // Builtin types appear as values, e.g. the default factory of a defaultdict(list).
        for (String type : List.of("list", "dict", "tuple", "int", "float", "str", "bool", "object")) {
            allowInert("builtins", type);
        }
        // Protocol-2 pickles encode Python bytes as _codecs.encode(text, 'latin1').
        allowInert("_codecs", "encode");
        for (String numpy : List.of("numpy.core.multiarray", "numpy._core.multiarray")) {
            allowInert(numpy, "scalar");
            allowInert(numpy, "_reconstruct");
        }
        allowInert("numpy", "dtype");
        allowInert("numpy", "ndarray");
        allowInert("pathlib", "PosixPath");
        allowInert("pathlib", "WindowsPath");
        allowInert("pathlib", "PurePosixPath");
        allowInert("pathlib", "PureWindowsPath");
    }

    private PickleGlobals() {}

    private static void allow(String module, String name, Kind kind) {
        ALLOWED.put(module + "." + name, new PickleGlobal(module, name, kind, null));
    }

    private static void allowStorage(String name, DType dtype) {
        ALLOWED.put("torch." + name, new PickleGlobal("torch", name, Kind.STORAGE, dtype));
    }

    private static void allowInert(String module, String name) {
        allow(module, name, Kind.INERT);
    }

    /** The allowed global {@code module.name}; refuses (with the message users see) any other. */
    static PickleGlobal resolve(String module, String name) {
        PickleGlobal g = ALLOWED.get(python3Name(module, name));
        if (g == null) {
            throw PickleException.refused("refusing to load: the pickle names '" + Untrusted.text(module + "." + name)
                    + "', which is not an allowed PyTorch checkpoint type");
        }
        return g;
    }

    /**
     * Python 3 writes protocol-2 pickles (torch.save's default) with Python 2 names for builtins, e.g.
     * {@code __builtin__.set} for {@code builtins.set}; this maps them back, as Python 3's unpickler does.
     */
    private static String python3Name(String module, String name) {
        if (!module.equals("__builtin__")) return module + "." + name;
        return switch (name) {
            case "unicode" -> "builtins.str";
            case "long" -> "builtins.int";
            default -> "builtins." + name;
        };
    }

    /** REDUCE: what {@code callable(*args)} stands for. */
    static Object call(Object callable, List<Object> args) {
        if (!(callable instanceof PickleGlobal g)) {
            throw PickleException.malformed("REDUCE calls " + describe(callable) + ", not an allowed global");
        }
        return switch (g.kind()) {
            case DICT -> newDict(args);
            case REBUILD_TENSOR_V2 -> {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (args.size() < 4 || args.size() > 7) throw arity(g, args);
                yield rebuildTensor(args);
            }
            case REBUILD_TENSOR -> {
                if (args.size() != 4) throw arity(g, args);
                yield rebuildTensor(args);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                // (data, requires_grad, backward_hooks[, state]): a Parameter is just its tensor here.
                int expected = g.kind() == Kind.REBUILD_PARAMETER ? 3 : 4;
                if (args.size() != expected) throw arity(g, args);
                yield requireTensor(args.get(0), g);
            }
            case REBUILD_FROM_TYPE_V2 -> {
                // (func, type, args, state): func must itself be one of the allowed rebuild functions.
                if (args.size() != 4) throw arity(g, args);
                if (!(args.get(0) instanceof PickleGlobal func) || !isRebuildFunction(func.kind())) {
                    throw PickleException.malformed(g + " is asked to call " + describe(args.get(0))
                            + ", which is not a tensor rebuild function");
                }
                if (!(args.get(2) instanceof List<?> funcArgs)) throw arity(g, args);
                yield call(func, new ArrayList<>(funcArgs));
            }
            case SIZE -> {
                if (args.size() != 1 || !(args.get(0) instanceof List<?> dims)) throw arity(g, args);
                yield dims;
            }
            case DEVICE -> {
                if (args.isEmpty() || args.size() > 2 || !(args.get(0) instanceof String type)) throw arity(g, args);
                yield args.size() == 2 && args.get(1) != null ? type + ":" + args.get(1) : type;
            }
            case STORAGE -> throw PickleException.malformed("the storage class " + g + " is called directly");
            case INERT -> new PickleObject(g.qualifiedName(), args);
        };
    }

    /** NEWOBJ: {@code cls.__new__(cls, *args)}; only dicts and inert placeholders can be made this way. */
    static Object instantiate(Object cls, List<Object> args) {
        if (cls instanceof PickleGlobal g && g.kind() == Kind.DICT) return new LinkedHashMap<>();
        if (cls instanceof PickleGlobal g && g.kind() == Kind.INERT) return new PickleObject(g.qualifiedName(), args);
        throw PickleException.malformed("NEWOBJ instantiates " + describe(cls));
    }

    private static boolean isRebuildFunction(Kind kind) {
        return kind == Kind.REBUILD_TENSOR_V2
                || kind == Kind.REBUILD_TENSOR
                || kind == Kind.REBUILD_PARAMETER
                || kind == Kind.REBUILD_PARAMETER_WITH_STATE;
    }

    /** An OrderedDict may be called with a list of (key, value) pairs; a defaultdict with its factory. */
    private static Map<Object, Object> newDict(List<Object> args) {
        Map<Object, Object> map = new LinkedHashMap<>();
        for (Object arg : args) {
            if (!(arg instanceof List<?> pairs)) continue;
            for (Object pair : pairs) {
                if (pair instanceof List<?> kv && kv.size() == 2) map.put(Unpickler.dictKey(kv.get(0)), kv.get(1));
            }
        }
        return map;
    }

    private static TensorRef rebuildTensor(List<Object> args) {
        if (!(args.get(0) instanceof TorchStorage storage)) {
            throw PickleException.malformed("a tensor is rebuilt from " + describe(args.get(0)) + ", not a storage");
        }
        long offset = toLong(args.get(1), "storage offset");
        long[] size = toLongs(args.get(2), "size");
        long[] stride = toLongs(args.get(3), "stride");
        if (size.length != stride.length) {
            throw PickleException.malformed("a tensor has " + size.length + " sizes but " + stride.length + " strides");
        }
        return new TensorRef(storage, offset, size, stride);
    }

    private static TensorRef requireTensor(Object data, PickleGlobal g) {
        if (!(data instanceof TensorRef t)) throw PickleException.malformed(g + " wraps " + describe(data));
        return t;
    }

    private static long toLong(Object v, String what) {
        if (!(v instanceof Long n)) throw PickleException.malformed("a tensor " + what + " is " + describe(v));
        return n;
    }

    private static long[] toLongs(Object v, String what) {
        if (!(v instanceof List<?> list)) throw PickleException.malformed("a tensor " + what + " is " + describe(v));
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = toLong(list.get(i), what);
        return out;
    }

    private static PickleException arity(PickleGlobal g, List<Object> args) {
        return PickleException.malformed(g + " is called with unexpected arguments (" + args.size() + ")");
    }

    /** A short, non-recursive description of a pickled value with its article ("a dict"), for error messages. */
    static String describe(Object v) {
        return switch (v) {
            case null -> "None";
            case PickleGlobal g -> "'" + g.qualifiedName() + "'";
            case PickleObject o -> "a '" + Untrusted.text(o.type()) + "' object";
            case TensorRef _ -> "a tensor";
            case TorchStorage _ -> "a storage";
            case String _ -> "a string";
            case Long _, BigInteger _ -> "an int";
            case Double _ -> "a float";
            case Boolean _ -> "a bool";
            case byte[] _ -> "bytes";
            case ArrayList<?> _ -> "a list";
            case List<?> _ -> "a tuple";
            case Map<?, ?> _ -> "a dict";
            default -> "a " + v.getClass().getSimpleName();
        };
    }
}
