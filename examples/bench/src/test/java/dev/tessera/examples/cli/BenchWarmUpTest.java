package dev.tessera.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchWarmUpTest {
    /** A clock that each "generation" advances by the next of the given durations (seconds). */
    private static final class FakeGenerations {
        long now;
        int runs;
        final double[] durations;

        FakeGenerations(double... durations) {
            this.durations = durations;
        }

        void run() {
            now += (long) (durations[runs++] * 1e9);
        }
    }

    private static double[] warmUp(int n, FakeGenerations g, ByteArrayOutputStream log) {
        return BenchCommand.warmUp(n, new PrintStream(log, true), g::run, () -> g.now);
    }

    @Test
    void untilSteadyStopsAtTheFirstRunWithin5PercentOfThePrevious() {
        FakeGenerations g = new FakeGenerations(5.0, 2.3, 1.9, 1.85, 1.8, 1.8, 1.8);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        assertArrayEquals(new double[] {5.0, 2.3, 1.9, 1.85}, warmUp(BenchCommand.WARMUP_UNTIL_STEADY, g, log), 1e-9);
        assertEquals(4, g.runs);
        assertEquals(
                List.of(
                        "warm-up run 1: 5.00 s",
                        "warm-up run 2: 2.30 s",
                        "warm-up run 3: 1.90 s",
                        "warm-up run 4: 1.85 s"),
                log.toString().lines().toList());
    }

    @Test
    void untilSteadyRunsAtLeastTwoAndAtMostSix() {
        assertEquals(
                2,
                warmUp(BenchCommand.WARMUP_UNTIL_STEADY, new FakeGenerations(1, 1, 1), new ByteArrayOutputStream())
                        .length);
        FakeGenerations halving = new FakeGenerations(64, 32, 16, 8, 4, 2, 1, 1);
        assertEquals(6, warmUp(BenchCommand.WARMUP_UNTIL_STEADY, halving, new ByteArrayOutputStream()).length);
        assertEquals(6, halving.runs);
    }

    @Test
    void aGivenCountRunsExactlyThatMany() {
        FakeGenerations g = new FakeGenerations(3, 3, 3, 3);
        assertEquals(3, warmUp(3, g, new ByteArrayOutputStream()).length);
        assertEquals(0, warmUp(0, new FakeGenerations(), new ByteArrayOutputStream()).length);
    }

    @Test
    void aNegativeCountIsAUsageError() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                List.of("bench", "nar", "--warmup", "-1"), new PrintStream(out, true), new PrintStream(err, true));
        assertEquals(2, status, err.toString());
        assertEquals("tessera: --warmup must be at least 0", err.toString().strip());
        BenchOptions none = new BenchOptions(2);
        new CommandLine(none).parseArgs();
        assertEquals(BenchCommand.WARMUP_UNTIL_STEADY, none.warmups());
    }
}
