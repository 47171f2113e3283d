package dev.tessera.examples.jmh;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The VQ-VAE decoder's convolutions: 3×3 (Winograd) at the finest and the coarsest level, and a 1×1 shortcut.
 * Direct-convolution FLOPs = 2·H·W·Cin·Cout·k².
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class Conv2dBenchmark {
    /** "cin:cout:side:k". */
    @Param({"160:160:256:3", "320:320:64:3", "640:640:16:3", "640:320:32:1"})
    public String conv;

    private Conv2d layer;
    private float[] in, out;
    private int side;

    @Setup
    public void setup() {
        String[] p = conv.split(":");
        int cin = Integer.parseInt(p[0]), cout = Integer.parseInt(p[1]), k = Integer.parseInt(p[3]);
        side = Integer.parseInt(p[2]);
        layer = new Conv2d(
                MemorySegment.ofArray(Data.random(cout * cin * k * k, 1, 1.0 / Math.sqrt(cin * k * k))),
                Data.random(cout, 2, 0.02),
                cout,
                cin,
                k,
                k,
                1,
                k / 2,
                k / 2,
                k / 2,
                k / 2);
        in = Data.random(cin * side * side, 3, 1);
        out = new float[cout * side * side];
    }

    @Benchmark
    public void conv2d(Blackhole bh) {
        Ops.cpu().conv2d(in, 0, side, side, layer, out, 0);
        bh.consume(out);
    }
}
