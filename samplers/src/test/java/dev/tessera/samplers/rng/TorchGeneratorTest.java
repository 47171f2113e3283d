package dev.tessera.samplers.rng;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Draws compared with PyTorch 1.13's CPU generator ({@code torch.Generator().manual_seed(s)}); the expected
 * numbers were printed by {@code /usr/bin/python3} with Debian's python3-torch.
 */
class TorchGeneratorTest {

    @Test
    void float32UniformsMatchTorchRand() {
        TorchGenerator g = new TorchGenerator(1234);
        float[] want = {
            0.028979241847991943f, 0.4018985629081726f, 0.25984418392181396f, 0.3666413426399231f, 0.05830073356628418f
        };
        for (float w : want) assertEquals(w, g.nextFloat(), 0f);
    }

    @Test
    void float64UniformsMatchTorchRand() {
        TorchGenerator g = new TorchGenerator(1234);
        double[] want = {0.2318341720884639, 0.07875386135027063, 0.46640616040796923};
        for (double w : want) assertEquals(w, g.nextDouble(), 0.0);
    }

    @Test
    void exponentialsMatchTorchExponential() {
        TorchGenerator g = new TorchGenerator(1234);
        float[] want = {
            0.2637496590614319f, 0.08202802389860153f, 0.6281203031539917f, 0.5350832939147949f, 0.4950334131717682f
        };
        for (float w : want) assertEquals(w, g.nextExponential(), 1e-7f);
    }

    @Test
    void normalsMatchTorchRandnUpToOneUlp() {
        TorchGenerator g = new TorchGenerator(7);
        float[] got = new float[20];
        g.fillNormal(got, 0, 20);
        float[] want = {
            -0.8201345205307007f,
            0.39563116431236267f,
            0.8989084959030151f,
            -1.3884038925170898f,
            0.19844505190849304f,
            0.7820726633071899f,
            1.0391076803207397f,
            -0.7245107293128967f,
            -0.8489086031913757f,
            -1.2169294357299805f,
            -0.08102158457040787f,
            1.3614851236343384f,
            -2.0614778995513916f,
            0.6741006970405579f,
            -1.3233457803726196f,
            -1.3597689867019653f,
            -0.866701602935791f,
            -0.5640066862106323f,
            -2.056462526321411f,
            -0.35672253370285034f
        };
        assertArrayEquals(want, got, 1e-6f);
    }

    @Test
    void float64NormalsMatchTorchRandnDouble() {
        // torch.manual_seed(9); torch.randn(40, dtype=torch.float64): two full blocks of 16 and a redrawn tail
        double[] got = new double[40];
        new TorchGenerator(9).fillNormal(got, 0, 40);
        int[] at = {0, 1, 7, 8, 15, 16, 31, 32, 39};
        double[] want = {
            0.42590269175345685,
            -1.668178790968237,
            0.4841590502015457,
            0.6197299001812928,
            0.03692466153530214,
            0.17317847693771457,
            0.5757484732018157,
            -0.9116621266037304,
            1.7849885874679057
        };
        for (int i = 0; i < at.length; i++) assertEquals(want[i], got[at[i]], 1e-14, "value " + at[i]);
        // fewer than 16 values take the scalar float64 path
        double[] small = new double[6];
        new TorchGenerator(9).fillNormal(small, 0, 6);
        assertArrayEquals(
                new double[] {
                    0.04472753863654923,
                    1.911239043445692,
                    -0.2310308923435549,
                    0.34592815167069546,
                    1.3180282301962654,
                    0.3696370193668759
                },
                small,
                1e-14);
    }

    @Test
    void multinomialMatchesTorchMultinomialWithAndWithoutReplacement() {
        float[] p = new float[4 * 50];
        for (int r = 0; r < 4; r++) for (int v = 0; v < 50; v++) p[r * 50 + v] = (v + 1) / 1275f;
        int[] with = new int[4], without = new int[4];
        TorchGenerator g = new TorchGenerator(3);
        for (int r = 0; r < 4; r++) with[r] = TorchMultinomial.withReplacement(p, r * 50, 50, g);
        g = new TorchGenerator(3);
        for (int r = 0; r < 4; r++) without[r] = TorchMultinomial.withoutReplacement(p, r * 50, 50, g);
        assertArrayEquals(new int[] {8, 26, 43, 20}, with); // torch.multinomial(p, 1, replacement=True)
        assertArrayEquals(new int[] {32, 35, 37, 49}, without); // torch.multinomial(p, 1)
    }

    @Test
    void multinomialShortcutDrawsWhatTheFullLoopDraws() {
        // peaked, flat, with zeros (top-k), and a single non-zero entry: same token and same stream position
        Random r = new Random(5);
        int V = 4096 + 1027; // draws in blocks of 1024 and vectors of up to 8: a partial block, a partial vector
        for (int kind = 0; kind < 4; kind++) {
            for (int trial = 0; trial < 25; trial++) {
                float[] p = new float[V];
                double sum = 0;
                for (int v = 0; v < V; v++) {
                    double x = switch (kind) {
                        case 0 -> Math.exp(4 * r.nextGaussian());
                        case 1 -> 1 + 0.01 * r.nextDouble();
                        case 2 -> r.nextInt(8) == 0 ? Math.exp(r.nextGaussian()) : 0;
                        default -> v == 77 ? 1 : 0;
                    };
                    p[v] = (float) x;
                    sum += x;
                }
                for (int v = 0; v < V; v++) p[v] /= (float) sum;
                // the row at an offset behind other values (a row of a batch), every few trials
                int off = trial % 3 == 0 ? 13 : 0;
                float[] row = new float[off + V];
                for (int v = 0; v < off; v++) row[v] = v == 0 ? 1f : 0.5f; // would win if read
                System.arraycopy(p, 0, row, off, V);
                TorchGenerator a = new TorchGenerator(trial), b = new TorchGenerator(trial);
                assertEquals(
                        TorchMultinomial.withoutReplacementFull(p, 0, V, a),
                        TorchMultinomial.withoutReplacement(row, off, V, b),
                        "kind " + kind + " trial " + trial);
                assertEquals(a.nextDouble(), b.nextDouble(), 0.0);
            }
        }
    }

    @Test
    void seedsKeepTheirLow32Bits() {
        TorchGenerator g = new TorchGenerator((1L << 40) + 5);
        assertEquals(0.8302518725395203f, g.nextFloat(), 0f);
        assertEquals(0.12611091136932373f, g.nextFloat(), 0f);
    }

    @Test
    void mersenneTwisterMatchesTheReferenceOverManyBlocks() {
        // C++11 [rand.predef]: the 10000th output of a default-constructed std::mt19937 (seed 5489) is 4123659995;
        // 10000 words run through 16 state updates, every lane of every vector step and the scalar tails included
        TorchGenerator g = new TorchGenerator(5489);
        long w = 0;
        for (int i = 0; i < 10000; i++) w = g.nextU32();
        assertEquals(4123659995L, w);
    }

    @Test
    void bulkDoublesAreTheStreamOfSingleOnes() {
        // odd word positions too (pairs straddle the 624-word blocks), and runs shorter than, equal to and longer than
        // a vector of doubles
        for (int skip = 0; skip < 20; skip++) {
            for (int n : new int[] {1, 2, 3, 4, 8, 9, 5000}) {
                TorchGenerator a = new TorchGenerator(11 + skip), b = new TorchGenerator(11 + skip);
                for (int i = 0; i < skip; i++) assertEquals(a.nextFloat(), b.nextFloat(), 0f);
                double[] bulk = new double[n + 3];
                b.nextDoubles(bulk, 2, n);
                for (int i = 0; i < n; i++)
                    assertEquals(
                            a.nextDouble(), bulk[2 + i], 0.0, "double " + i + " of " + n + " after " + skip + " words");
                assertEquals(a.nextU32(), b.nextU32());
            }
        }
    }
}
