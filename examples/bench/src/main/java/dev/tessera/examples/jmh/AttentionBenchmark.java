package dev.tessera.examples.jmh;

import dev.tessera.engine.ops.Ops;
import java.util.Arrays;
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
 * One VAR-d16 attention layer with the KV cache: 2 rows (CFG) × 16 heads of 64, the queries of one scale against
 * every cached token. FLOPs = 4·B·H·l·T·d.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0"})
public class AttentionBenchmark {
    /** "side:cached": the last scale (16² queries, 680 keys) and scale 13 (169 queries, 424 keys). */
    @Param({"16:680", "13:424"})
    public String scale;

    private static final int B = 2, H = 16, D = 64, T_MAX = 680;
    private int l, T;
    private float[] q, kT, v, out, headScale;

    @Setup
    public void setup() {
        String[] p = scale.split(":");
        l = Integer.parseInt(p[0]) * Integer.parseInt(p[0]);
        T = Integer.parseInt(p[1]);
        q = Data.random(B * l * 3 * H * D, 1, 0.2);
        kT = Data.random(B * H * D * T_MAX, 2, 0.2);
        v = Data.random(B * H * T_MAX * D, 3, 1);
        out = new float[B * l * H * D];
        headScale = new float[H];
        Arrays.fill(headScale, 4f);
    }

    @Benchmark
    public void attention(Blackhole bh) {
        Ops.cpu().attention(B, H, l, D, q, 0, 3 * H * D, kT, v, T_MAX, T, false, headScale, out, 0, H * D);
        bh.consume(out);
    }
}
