package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import org.openjdk.jmh.Main;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code tessera bench}: seconds per image with random weights of the released shapes, one subcommand per model family,
 * and the JMH kernel benchmarks. Registered with the command line through {@link Provider} (a service), so that
 * this module stays off the command's class path unless the launcher adds it for {@code tessera bench}.
 */
@Command(
        name = "bench",
        header = {
            "seconds per image with random weights of the released shapes",
            "(var, llamagen, nar, flowar, mar; bench samplers measures the samplers on the bundled models;",
            "bench gemm times the linear GEMM on any backend; bench kernels runs the JMH kernels)"
        },
        description = {
            "Every bench reports the steady state: the JIT compiler is still at work during the first two or three",
            "generations of a fresh JVM (the first one takes 2-3x as long), so by default untimed generations run "
                    + "until",
            "one takes within 5%% of the one before (at least 2, at most 6); all of them are printed.",
            ""
        },
        subcommands = {
            VarBench.class,
            LlamaGenBench.class,
            NarBench.class,
            FlowArBench.class,
            MarBench.class,
            SamplersBench.class,
            GemmBench.class,
            BenchCommand.Kernels.class
        })
public final class BenchCommand extends GroupCommand {
    public BenchCommand(PrintStream out) {
        super(out);
    }

    @Override
    public String noun() {
        return "benchmark";
    }

    /** Adds {@code bench} to the {@code tessera} command (META-INF/services). */
    public static final class Provider implements SubcommandProvider {
        @Override
        public String name() {
            return "bench";
        }

        @Override
        public Object command(PrintStream out) {
            return new BenchCommand(out);
        }
    }

    /** Untimed generations when {@code --warmup} is not given: until one is within 5% of the one before. */
    static final int WARMUP_UNTIL_STEADY = -1;

    static final int MIN_WARMUPS = 2, MAX_WARMUPS = 6;

    /**
     * Runs untimed generations, printing how long each took: {@code n} of them, or for {@link #WARMUP_UNTIL_STEADY}
     * until one takes within 5% of the one before (at least {@value #MIN_WARMUPS}, at most {@value #MAX_WARMUPS}).
     * Returns their times in seconds.
     */
    static double[] warmUp(int n, PrintStream log, Runnable generation) {
        return warmUp(n, log, generation, System::nanoTime);
    }

    static double[] warmUp(int n, PrintStream log, Runnable generation, LongSupplier nanoClock) {
        boolean untilSteady = n == WARMUP_UNTIL_STEADY;
        List<Double> times = new ArrayList<>();
        while (untilSteady ? times.size() < MAX_WARMUPS : times.size() < n) {
            long t = nanoClock.getAsLong();
            generation.run();
            double s = (nanoClock.getAsLong() - t) * 1e-9;
            times.add(s);
            log.printf(Locale.ROOT, "warm-up run %d: %.2f s%n", times.size(), s);
            if (untilSteady && times.size() >= MIN_WARMUPS && withinFivePercent(times.get(times.size() - 2), s)) break;
        }
        return times.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static boolean withinFivePercent(double before, double now) {
        return Math.abs(now - before) <= 0.05 * before;
    }

    static void printProfile(PrintStream log, Map<String, long[]> profile) {
        log.println("\nper kernel (last run): seconds, GFLOP/s, calls");
        profile.forEach((k, v) -> log.printf(
                "  %-14s %7.3f s %8.1f GFLOP/s %7d%n", k, v[1] * 1e-9, v[1] == 0 ? 0 : v[0] / (double) v[1], v[2]));
    }

    /**
     * {@code tessera bench kernels [JMH options]}: the JMH benchmarks of GEMM, attention and conv2d
     * ({@code dev.tessera.examples.jmh}); any JMH option can follow, e.g. {@code -p m=512 -f 1}.
     */
    @Command(
            name = "kernels",
            header = "the JMH kernel benchmarks (GEMM, attention, conv2d)",
            description = {
                "Runs the JMH benchmarks GemmBenchmark, AttentionBenchmark, Conv2dBenchmark (default: all); any",
                "JMH option and a benchmark regexp can follow.",
                ""
            },
            footer = {"", "Examples: tessera bench kernels Gemm -p m=512 ;  tessera bench kernels Conv2d -wi 1 -i 3"})
    static final class Kernels extends CommandBase {
        @Unmatched
        List<String> jmhArgs = new ArrayList<>();

        Kernels(PrintStream out) {
            super(out);
        }

        @Override
        public Integer call() {
            List<String> args = new ArrayList<>(jmhArgs);
            if (args.isEmpty() || args.getFirst().startsWith("-")) args.addFirst("dev.tessera.examples.jmh");
            try {
                Main.main(args.toArray(String[]::new));
                return 0;
            } catch (Exception e) {
                throw new TesseraException("JMH failed: " + e.getMessage(), e);
            }
        }
    }

    /** A temporary folder for the weight files, deleted when the JVM exits. */
    static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("tessera-bench-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var files = Files.list(dir)) {
                    files.forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
                dir.toFile().delete();
            }));
            return dir;
        } catch (IOException e) {
            throw new TesseraException(
                    "cannot create a temporary folder for the benchmark weights: " + e.getMessage(), e);
        }
    }

    /** Resets VmHWM to the current RSS (Linux {@code clear_refs} 5); silently does nothing elsewhere. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not allowed: the peak then includes building the weights
        }
    }

    /** VmHWM of this process (Linux), or -1. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
