package dev.tessera.examples.jmh;

import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.ops.Activation;
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
 * The linear-layer GEMM at VAR-d16 shapes: M = tokens of a scale × 2 (CFG), K and N = 1024 / 4096.
 * Throughput in GFLOP/s = 2·M·K·N / (time per op).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class GemmBenchmark {
    /** Tokens of a VAR-d16 scale under CFG: scales 1, 4, 8 (side 1, 5, 13) and the last (16). */
    @Param({"2", "50", "338", "512"})
    public int m;
    /** "in x out": attention projection, FFN up, FFN down. */
    @Param({"1024x1024", "1024x4096", "4096x1024"})
    public String shape;

    private Linear layer;
    private float[] x, y;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        int in = Integer.parseInt(p[0]), out = Integer.parseInt(p[1]);
        layer = new Linear(
                MemorySegment.ofArray(Data.random(out * in, 1, 1.0 / Math.sqrt(in))),
                Data.random(out, 2, 0.02),
                out,
                in);
        x = Data.random(m * in, 3, 1);
        y = new float[m * out];
        layer.panels();
    }

    @Benchmark
    public void linear(Blackhole bh) {
        Ops.cpu().linear(x, 0, m, layer, y, 0, Activation.NONE);
        bh.consume(y);
    }
}
