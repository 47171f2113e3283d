package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code .pth} reader on synthetic checkpoints built opcode by opcode (see {@link PickleWriter}). */
class PthCheckpointTest {
    @TempDir
    Path dir;

    private Path pth(String name, PickleWriter pickle, Map<String, byte[]> storages) throws IOException {
        return TestFiles.writePth(dir.resolve(name), pickle.stop().toBytes(), storages);
    }

    /** A dict literal {key: tensor, ...}: EMPTY_DICT MARK (key value)* SETITEMS. */
    private static PickleWriter dictOf(PickleWriter p, Runnable items) {
        p.emptyDict().mark();
        items.run();
        return p.setitems();
    }

    private static CheckpointException openFails(Path file) {
        return assertThrows(
                CheckpointException.class, () -> Checkpoints.open(file).close());
    }

    // --- security: the allow-list ---

    @Test
    void refusesOsSystemWithoutRunningIt() throws IOException {
        Path marker = dir.resolve("pwned");
        PickleWriter p = new PickleWriter()
                .proto(2)
                .global("os", "system")
                .string("touch " + marker)
                .tuple1()
                .reduce();
        Path file = pth("evil.pth", p, Map.of());
        CheckpointException e = openFails(file);
        assertEquals(
                file + ": refusing to load: the pickle names 'os.system', which is not an allowed PyTorch "
                        + "checkpoint type",
                e.getMessage());
        assertFalse(Files.exists(marker), "nothing from the file was executed");
    }

    @ParameterizedTest
    @CsvSource({
        "builtins,eval",
        "__builtin__,eval",
        "subprocess,Popen",
        "posix,system",
        "builtins,getattr",
        "torch,load",
        "torch.nn.modules.linear,Linear",
        "numpy,load"
    })
    void refusesAnyOtherGlobal(String module, String name) throws IOException {
        for (boolean stackGlobal : new boolean[] {false, true}) {
            // The refused name sits inside an otherwise valid state dict, and is never even called.
            PickleWriter p = new PickleWriter().proto(stackGlobal ? 4 : 2);
            dictOf(p, () -> {
                p.string("w").floatTensor("0", 2);
                p.string("x");
                if (stackGlobal) p.stackGlobal(module, name);
                else p.global(module, name);
            });
            Path file = pth("g" + stackGlobal + ".pth", p, Map.of("0", TestFiles.ramp(2)));
            CheckpointException e = openFails(file);
            assertEquals(
                    file + ": refusing to load: the pickle names '" + module + "." + name
                            + "', which is not an allowed PyTorch checkpoint type",
                    e.getMessage());
        }
    }

    // --- tensors ---

    @Test
    void viewsOffsetsAndNonContiguousTensors() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("a").tensor("FloatStorage", "0", 24, 0, new long[] {2, 3}, new long[] {3, 1});
            p.string("b").tensor("FloatStorage", "0", 24, 6, new long[] {4, 3}, new long[] {3, 1});
            p.string("t").tensor("FloatStorage", "0", 24, 0, new long[] {3, 2}, new long[] {1, 3}); // a.T
            p.string("col").tensor("FloatStorage", "0", 24, 1, new long[] {4}, new long[] {6});
            p.string("bcast").tensor("FloatStorage", "0", 24, 5, new long[] {2, 3}, new long[] {0, 1});
            p.string("one").tensor("FloatStorage", "0", 24, 23, new long[] {1, 1}, new long[] {7, 9});
        });
        Path file = pth("views.pth", p, Map.of("0", TestFiles.ramp(24)));
        try (Checkpoint c = Checkpoints.open(file)) {
            assertEquals(List.of("a", "b", "t", "col", "bcast", "one"), new ArrayList<>(c.keys()));
            assertArrayEquals(
                    new float[] {0, 1, 2, 3, 4, 5}, c.tensor("a", 2, 3).toFloatArray());
            assertArrayEquals(
                    new float[] {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17},
                    c.tensor("b").toFloatArray());
            assertArrayEquals(
                    new float[] {0, 3, 1, 4, 2, 5}, c.tensor("t", 3, 2).toFloatArray());
            assertArrayEquals(new float[] {1, 7, 13, 19}, c.tensor("col").toFloatArray());
            assertArrayEquals(new float[] {5, 6, 7, 5, 6, 7}, c.tensor("bcast").toFloatArray());
            assertArrayEquals(new float[] {23}, c.tensor("one").toFloatArray());
            assertTrue(c.tensor("b").data().isMapped(), "contiguous tensors are slices of the mapping");
            assertTrue(c.tensor("one").data().isMapped(), "size-1 dimensions do not break contiguity");
            assertFalse(c.tensor("t").data().isMapped(), "non-contiguous tensors are copied");
        }
    }

    @Test
    void allStorageTypes() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("f16").tensor("HalfStorage", "h", 2, 0, new long[] {2}, new long[] {1});
            p.string("bf16").tensor("BFloat16Storage", "bf", 2, 0, new long[] {2}, new long[] {1});
            p.string("f64").tensor("DoubleStorage", "d", 1, 0, new long[] {}, new long[] {});
            p.string("i64").tensor("LongStorage", "l", 2, 0, new long[] {2}, new long[] {1});
            p.string("i32").tensor("IntStorage", "i", 1, 0, new long[] {1}, new long[] {1});
            p.string("i16").tensor("ShortStorage", "s", 2, 0, new long[] {2}, new long[] {1});
            p.string("i8").tensor("CharStorage", "c", 2, 0, new long[] {2}, new long[] {1});
            p.string("u8").tensor("ByteStorage", "b", 2, 0, new long[] {2}, new long[] {1});
            p.string("bool").tensor("BoolStorage", "o", 2, 0, new long[] {2}, new long[] {1});
            p.string("empty").tensor("FloatStorage", "e", 0, 0, new long[] {0, 3}, new long[] {3, 1});
        });
        Map<String, byte[]> storages = new LinkedHashMap<>();
        storages.put("h", TestFiles.shorts(Float.floatToFloat16(1.5f), Float.floatToFloat16(-2f)));
        storages.put("bf", TestFiles.shorts((short) 0x3fc0, (short) 0xc000)); // 1.5, -2
        storages.put("d", TestFiles.longs(Double.doubleToLongBits(Math.PI)));
        storages.put("l", TestFiles.longs(-1L, Long.MAX_VALUE));
        storages.put("i", new byte[] {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        storages.put("s", TestFiles.shorts((short) -3, (short) 300));
        storages.put("c", new byte[] {-128, 127});
        storages.put("b", new byte[] {(byte) 255, 7});
        storages.put("o", new byte[] {1, 0});
        storages.put("e", new byte[0]);
        try (Checkpoint c = Checkpoints.open(pth("dtypes.pth", p, storages))) {
            assertEquals(DType.F16, c.tensor("f16").dtype());
            assertArrayEquals(new float[] {1.5f, -2f}, c.tensor("f16").toFloatArray());
            assertEquals(DType.BF16, c.tensor("bf16").dtype());
            assertArrayEquals(new float[] {1.5f, -2f}, c.tensor("bf16").toFloatArray());
            assertEquals(DType.F64, c.tensor("f64").dtype());
            assertEquals(Math.PI, c.tensor("f64").getDouble(0), 0.0);
            assertEquals(0, c.tensor("f64").rank());
            assertArrayEquals(new long[] {-1, Long.MAX_VALUE}, c.tensor("i64").toLongArray());
            assertArrayEquals(new long[] {-2}, c.tensor("i32").toLongArray());
            assertArrayEquals(new long[] {-3, 300}, c.tensor("i16").toLongArray());
            assertArrayEquals(new long[] {-128, 127}, c.tensor("i8").toLongArray());
            assertArrayEquals(new long[] {255, 7}, c.tensor("u8").toLongArray());
            assertEquals(DType.BOOL, c.tensor("bool").dtype());
            assertArrayEquals(new long[] {1, 0}, c.tensor("bool").toLongArray());
            Tensor empty = c.tensor("empty", 0, 3);
            assertEquals(0, empty.numel());
            assertEquals(0, empty.data().byteSize());
        }
    }

    @Test
    void parametersAndTensorSubclassWrappers() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            // torch._utils._rebuild_parameter(tensor, True, OrderedDict())
            p.string("param")
                    .global("torch._utils", "_rebuild_parameter")
                    .mark()
                    .floatTensor("0", 2)
                    .bool(true)
                    .global("collections", "OrderedDict")
                    .emptyTuple()
                    .reduce()
                    .tuple()
                    .reduce();
            // torch._tensor._rebuild_from_type_v2(_rebuild_tensor_v2, Parameter, (args...), {})
            p.string("typed")
                    .global("torch._tensor", "_rebuild_from_type_v2")
                    .mark()
                    .global("torch._utils", "_rebuild_tensor_v2")
                    .global("torch.nn.parameter", "Parameter")
                    .mark()
                    .storage("FloatStorage", "1", 3)
                    .integer(0)
                    .ints(3)
                    .ints(1)
                    .bool(false)
                    .global("collections", "OrderedDict")
                    .emptyTuple()
                    .reduce()
                    .tuple()
                    .emptyDict()
                    .tuple()
                    .reduce();
            // The same storage again through the memo, as torch.save writes shared storages.
            p.string("state")
                    .global("torch._utils", "_rebuild_parameter_with_state")
                    .mark()
                    .floatTensor("0", 2)
                    .bool(false)
                    .global("collections", "OrderedDict")
                    .emptyTuple()
                    .reduce()
                    .emptyDict()
                    .tuple()
                    .reduce();
        });
        try (Checkpoint c = Checkpoints.open(
                pth("params.pth", p, Map.of("0", TestFiles.ramp(2), "1", TestFiles.floats(7, 8, 9))))) {
            assertEquals(List.of("param", "typed", "state"), new ArrayList<>(c.keys()));
            assertArrayEquals(new float[] {0, 1}, c.tensor("param", 2).toFloatArray());
            assertArrayEquals(new float[] {7, 8, 9}, c.tensor("typed", 3).toFloatArray());
            assertArrayEquals(new float[] {0, 1}, c.tensor("state", 2).toFloatArray());
        }
    }

    @Test
    void rebuildFromTypeRefusesArbitraryFunctions() throws IOException {
        PickleWriter p = new PickleWriter()
                .proto(2)
                .global("torch._tensor", "_rebuild_from_type_v2")
                .mark()
                .global("builtins", "set")
                .global("torch", "Tensor")
                .emptyTuple()
                .emptyDict()
                .tuple()
                .reduce();
        CheckpointException e = openFails(pth("fromtype.pth", p, Map.of()));
        assertTrue(e.getMessage().contains("not a tensor rebuild function"), e.getMessage());
    }

    // --- locating the state dict ---

    /** A training checkpoint: weights under 'model' with DDP prefixes, next to optimizer state and 'args'. */
    @Test
    void trainingCheckpointWithArgsAndDdpPrefix() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("epoch").integer(3);
            p.string("args").global("argparse", "Namespace").emptyTuple().newobj();
            dictOf(p, () -> {
                p.string("lr")
                        .op('G')
                        .op(0x3f)
                        .op(0xb9)
                        .op(0x99)
                        .op(0x99)
                        .op(0x99)
                        .op(0x99)
                        .op(0x99)
                        .op(0x9a);
                p.string("tags")
                        .global("__builtin__", "set")
                        .mark()
                        .emptyList()
                        .string("a")
                        .append()
                        .tuple()
                        .reduce();
                p.string("blob")
                        .global("_codecs", "encode")
                        .string("\u00ff\u0000")
                        .string("latin1")
                        .tuple2()
                        .reduce();
                p.string("dev")
                        .global("torch", "device")
                        .string("cuda")
                        .integer(0)
                        .tuple2()
                        .reduce();
                // numpy.float64(1.5): scalar(dtype('f8', False, True) + BUILD state, _codecs.encode(raw bytes))
                p.string("np")
                        .global("numpy.core.multiarray", "scalar")
                        .global("numpy", "dtype")
                        .string("f8")
                        .bool(false)
                        .bool(true)
                        .op(0x87)
                        .reduce()
                        .mark()
                        .integer(3)
                        .string("<")
                        .none()
                        .none()
                        .none()
                        .integer(-1)
                        .integer(-1)
                        .integer(0)
                        .tuple()
                        .build()
                        .global("_codecs", "encode")
                        .string("\u0000\u0000\u0000\u0000\u0000\u0000\u00f8?")
                        .string("latin1")
                        .tuple2()
                        .reduce()
                        .tuple2()
                        .reduce();
                p.string("dd")
                        .global("collections", "defaultdict")
                        .global("__builtin__", "list")
                        .tuple1()
                        .reduce();
                p.string("sl").global("__builtin__", "slice").ints(1, 2).reduce();
                p.string("none").none();
                p.string("huge")
                        .op(0x8a)
                        .op(9)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(0)
                        .op(1); // 2**64
            });
            p.build();
            p.string("optimizer");
            dictOf(p, () -> {
                p.string("state");
                dictOf(
                        p,
                        () -> p.integer(0)
                                .emptyDict()
                                .string("exp_avg")
                                .floatTensor("9", 2)
                                .setitem());
            });
            p.string("model");
            dictOf(p, () -> {
                p.string("module.w").floatTensor("0", 2, 2);
                p.string("module.b").floatTensor("1", 2);
            });
            p.string("ema");
            dictOf(p, () -> p.string("w").floatTensor("9", 2));
        });
        Map<String, byte[]> storages =
                Map.of("0", TestFiles.ramp(4), "1", TestFiles.floats(5, 6), "9", TestFiles.floats(-1, -1));
        try (Checkpoint c = Checkpoints.open(pth("train.pth", p, storages))) {
            assertEquals(List.of("w", "b"), new ArrayList<>(c.keys()));
            assertArrayEquals(new float[] {0, 1, 2, 3}, c.tensor("w", 2, 2).toFloatArray());
            assertArrayEquals(new float[] {5, 6}, c.tensor("b", 2).toFloatArray());
        }
    }

    @Test
    void wrapperKeysAreTriedInOrder() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("ema");
            dictOf(p, () -> p.string("from_ema").floatTensor("0", 1));
            p.string("model").string("not a dict");
            p.string("state_dict");
            dictOf(p, () -> p.string("from_state_dict").floatTensor("0", 1));
        });
        try (Checkpoint c = Checkpoints.open(pth("order.pth", p, Map.of("0", TestFiles.ramp(1))))) {
            assertEquals(Set.of("from_state_dict"), c.keys());
        }
    }

    /** MAR's released files hold {@code model} and {@code model_ema}: a caller may ask for the EMA weights. */
    @Test
    void aPreferredWrapperIsTriedFirst() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("model");
            dictOf(p, () -> p.string("w").floatTensor("0", 1));
            p.string("model_ema");
            dictOf(p, () -> p.string("w").floatTensor("1", 1));
        });
        Map<String, byte[]> storages = Map.of("0", TestFiles.floats(1), "1", TestFiles.floats(2));
        Path file = pth("ema.pth", p, storages);
        try (Checkpoint plain = Checkpoints.open(file);
                Checkpoint ema = Checkpoints.open(file, "model_ema");
                Checkpoint absent = Checkpoints.open(file, "no_such_key")) {
            assertArrayEquals(new float[] {1}, plain.tensor("w", 1).toFloatArray());
            assertArrayEquals(new float[] {2}, ema.tensor("w", 1).toFloatArray());
            assertArrayEquals(new float[] {1}, absent.tensor("w", 1).toFloatArray());
        }
    }

    @Test
    void otherNestingIsFlattenedWithDottedKeys() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("net");
            dictOf(p, () -> p.string("a").floatTensor("0", 1));
            p.string("step").integer(5);
            p.string("head");
            dictOf(p, () -> {
                p.string("sub");
                dictOf(p, () -> p.string("c").floatTensor("0", 1));
            });
            p.integer(7).floatTensor("0", 1);
        });
        try (Checkpoint c = Checkpoints.open(pth("nested.pth", p, Map.of("0", TestFiles.ramp(1))))) {
            assertEquals(List.of("net.a", "head.sub.c", "7"), new ArrayList<>(c.keys()));
        }
    }

    @Test
    void selfReferencingDictTerminates() throws IOException {
        PickleWriter p = new PickleWriter()
                .proto(2)
                .emptyDict()
                .binput(0)
                .string("self")
                .binget(0)
                .setitem()
                .string("w")
                .floatTensor("0", 1)
                .setitem();
        try (Checkpoint c = Checkpoints.open(pth("cycle.pth", p, Map.of("0", TestFiles.ramp(1))))) {
            assertEquals(Set.of("w"), c.keys());
        }
    }

    @Test
    void topFolderNameVariesAndPickleMayBeDeflated() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> p.string("w").floatTensor("0", 3));
        Path file = TestFiles.writePth(
                dir.resolve("stem.pth"),
                "my_model_v2",
                p.stop().toBytes(),
                Map.of("0", TestFiles.ramp(3)),
                Set.of("data.pkl"));
        try (Checkpoint c = Checkpoints.open(file)) {
            assertArrayEquals(new float[] {0, 1, 2}, c.tensor("w", 3).toFloatArray());
        }
    }

    // --- errors ---

    @Test
    void compressedStorageIsRejected() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> p.string("w").floatTensor("0", 3));
        Path file = TestFiles.writePth(
                dir.resolve("deflated.pth"),
                "archive",
                p.stop().toBytes(),
                Map.of("0", TestFiles.ramp(3)),
                Set.of("0"));
        CheckpointException e = openFails(file);
        assertTrue(e.getMessage().startsWith(file + ": zip entry 'archive/data/0' is compressed"), e.getMessage());
    }

    @Test
    void storageProblemsNameTheStorage() throws IOException {
        PickleWriter missing = new PickleWriter().proto(2);
        dictOf(missing, () -> missing.string("w").floatTensor("5", 3));
        Path file = pth("missing.pth", missing, Map.of("0", TestFiles.ramp(3)));
        assertEquals(
                file + ": storage '5' is missing (no zip entry 'archive/data/5')",
                openFails(file).getMessage());

        PickleWriter small = new PickleWriter().proto(2);
        dictOf(small, () -> small.string("w").floatTensor("0", 4));
        file = pth("small.pth", small, Map.of("0", TestFiles.ramp(3)));
        assertEquals(
                file + ": storage '0' holds 12 bytes but the pickle declares 4 F32 elements (16 bytes)",
                openFails(file).getMessage());

        PickleWriter beyond = new PickleWriter().proto(2);
        dictOf(beyond, () -> beyond.string("w").tensor("FloatStorage", "0", 3, 2, new long[] {2}, new long[] {1}));
        file = pth("beyond.pth", beyond, Map.of("0", TestFiles.ramp(3)));
        assertTrue(openFails(file)
                .getMessage()
                .startsWith(file + ": tensor 'w' (size [2], stride [1], offset 2) "
                        + "reaches past the end of storage '0'"));

        // A stride-0 view may legally claim any size; its copy must not exhaust memory.
        PickleWriter expanded = new PickleWriter().proto(2);
        dictOf(
                expanded,
                () -> expanded.string("w")
                        .tensor("FloatStorage", "0", 3, 0, new long[] {1L << 20, 1L << 20}, new long[] {0, 0}));
        file = pth("expanded.pth", expanded, Map.of("0", TestFiles.ramp(3)));
        assertEquals(
                file + ": tensor 'w' is a non-contiguous view whose contiguous copy (4398046511104 bytes) would "
                        + "exceed the memory allowed for such copies",
                openFails(file).getMessage());
    }

    @Test
    void malformedPicklesAreReportedNotCrashed() throws IOException {
        List<PickleWriter> programs = List.of(
                new PickleWriter().proto(2).reduce(), // stack underflow
                new PickleWriter().proto(2).binget(3), // memo never written
                new PickleWriter().proto(6), // unknown protocol
                new PickleWriter().proto(2).op('i'), // INST, protocol 0 only
                new PickleWriter().proto(2).op('X').op(0xff).op(0xff).op(0xff).op(0x7f), // 2 GB string
                new PickleWriter().proto(2).op('c').op('o').op('s'), // unterminated GLOBAL
                new PickleWriter().proto(2).emptyList().string("k").integer(1).setitem(), // SETITEM on a list
                new PickleWriter().proto(2).integer(1).emptyTuple().reduce(), // calling an int
                new PickleWriter().proto(2).emptyTuple().string("x").append(), // APPEND to a tuple
                new PickleWriter().proto(2).mark().string("storage").tuple().op('Q'), // bad persistent id
                new PickleWriter().proto(2).emptyDict().op(0x95)); // truncated FRAME, no STOP
        for (int i = 0; i < programs.size(); i++) {
            Path file = TestFiles.writePth(
                    dir.resolve("bad" + i + ".pth"), programs.get(i).toBytes(), Map.of());
            CheckpointException e = openFails(file);
            assertTrue(
                    e.getMessage().startsWith(file + ": malformed checkpoint pickle 'archive/data.pkl' ("),
                    "program " + i + ": " + e.getMessage());
        }
        Path list = pth("list.pth", new PickleWriter().proto(2).emptyList(), Map.of());
        assertEquals(
                list + ": the checkpoint holds a list, not a dict of tensors (a state dict)",
                openFails(list).getMessage());
        Path tensor =
                pth("tensor.pth", new PickleWriter().proto(2).floatTensor("0", 1), Map.of("0", TestFiles.ramp(1)));
        assertEquals(
                tensor + ": the checkpoint holds a tensor, not a dict of tensors (a state dict)",
                openFails(tensor).getMessage());
    }

    @Test
    void missingKeyAndShapeMismatch() throws IOException {
        PickleWriter p = new PickleWriter().proto(2);
        dictOf(p, () -> {
            p.string("blocks.3.attn.proj.weights").floatTensor("0", 2, 2);
            p.string("head.bias").floatTensor("0", 4);
        });
        Path file = pth("keys.pth", p, Map.of("0", TestFiles.ramp(4)));
        try (Checkpoint c = Checkpoints.open(file)) {
            CheckpointException missing =
                    assertThrows(CheckpointException.class, () -> c.tensor("blocks.3.attn.proj.weight"));
            assertEquals(
                    file + ": missing tensor 'blocks.3.attn.proj.weight' (did you mean "
                            + "'blocks.3.attn.proj.weights'?)",
                    missing.getMessage());
            CheckpointException unrelated = assertThrows(CheckpointException.class, () -> c.tensor("pos_embed"));
            assertEquals(file + ": missing tensor 'pos_embed'", unrelated.getMessage());
            CheckpointException shape = assertThrows(CheckpointException.class, () -> c.tensor("head.bias", 8));
            assertEquals(file + ": tensor 'head.bias' has shape [4], expected [8]", shape.getMessage());
            assertEquals(4, c.tensor("head.bias", -1).numel(), "-1 matches any size");
        }
    }

    @Test
    void truncatedRealCheckpoint() throws IOException {
        Path source = TestFiles.golden("var-small/var.pth");
        byte[] all = Files.readAllBytes(source);
        Path half = Files.write(dir.resolve("var.pth"), Arrays.copyOf(all, all.length / 2));
        CheckpointException e = openFails(half);
        assertEquals(half + ": truncated or corrupt zip archive (no end-of-central-directory record)", e.getMessage());
    }
}
