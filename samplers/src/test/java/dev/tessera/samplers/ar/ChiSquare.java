package dev.tessera.samplers.ar;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Pearson's chi-square goodness of fit and its p-value. Cells of positive but small expectation (E < 5) are pooled,
 * smallest first, until each pool expects at least 5. Cells of probability 0 are never pooled: a single observation
 * in one is outside the support and the test fails outright (p = 0).
 */
final class ChiSquare {
    private ChiSquare() {}

    /** The statistic, its degrees of freedom, the p-value, and how many observations fell outside the support. */
    record Result(double x2, int df, double p, long outsideSupport, int firstOutside) {
        @Override
        public String toString() {
            return outsideSupport > 0
                    ? outsideSupport + " samples outside the support (first in cell " + firstOutside + "), p = 0"
                    : String.format("X2 = %.1f, df = %d, p = %.3g", x2, df, p);
        }
    }

    /** p-value of observed counts against expected probabilities (N = sum of counts). */
    static double pValue(long[] observed, double[] probability) {
        return test(observed, probability).p();
    }

    static Result test(long[] observed, double[] probability) {
        if (observed.length != probability.length)
            throw new IllegalArgumentException("counts and probabilities differ in length");
        long total = 0, outside = 0;
        int firstOutside = -1;
        double sum = 0;
        for (int i = 0; i < observed.length; i++) {
            if (!(probability[i] >= 0) || Double.isInfinite(probability[i]))
                throw new IllegalArgumentException("probability " + probability[i] + " in cell " + i);
            if (observed[i] < 0) throw new IllegalArgumentException("negative count in cell " + i);
            sum += probability[i];
            total += observed[i];
            if (probability[i] == 0 && observed[i] > 0) {
                outside += observed[i];
                if (firstOutside < 0) firstOutside = i;
            }
        }
        if (Math.abs(sum - 1) > 1e-6) throw new IllegalArgumentException("the probabilities sum to " + sum);
        if (outside > 0) return new Result(Double.POSITIVE_INFINITY, -1, 0.0, outside, firstOutside);
        final long n = total;
        int[] cellsBySize = IntStream.range(0, observed.length)
                .filter(i -> probability[i] > 0)
                .boxed()
                .sorted((a, b) -> Double.compare(probability[a], probability[b]))
                .mapToInt(Integer::intValue)
                .toArray();
        List<double[]> pools = new ArrayList<>(); // {observed, expected}
        double accO = 0, accE = 0;
        for (int i : cellsBySize) {
            accO += observed[i];
            accE += probability[i] * n;
            if (accE >= 5) {
                pools.add(new double[] {accO, accE});
                accO = 0;
                accE = 0;
            }
        }
        if (accE > 0) { // a remainder expecting less than 5 joins the last pool
            if (pools.isEmpty()) pools.add(new double[] {accO, accE});
            else {
                pools.getLast()[0] += accO;
                pools.getLast()[1] += accE;
            }
        }
        double x2 = 0;
        for (double[] c : pools) x2 += (c[0] - c[1]) * (c[0] - c[1]) / c[1];
        int df = pools.size() - 1;
        // a fit whose cells all pooled into one tests nothing: refuse it rather than pass it
        if (df <= 0)
            throw new IllegalArgumentException("every cell pooled into one: too few samples for a chi-square test");
        return new Result(x2, df, upperGamma(df / 2.0, x2 / 2.0), 0, -1);
    }

    /** Regularised upper incomplete gamma Q(a, x): series below a+1, continued fraction (Lentz) above. */
    static double upperGamma(double a, double x) {
        if (x <= 0) return 1.0;
        double lnPrefix = -x + a * Math.log(x) - logGamma(a);
        if (x < a + 1) {
            double term = 1.0 / a, sum = term;
            for (int n = 1; n < 10000; n++) {
                term *= x / (a + n);
                sum += term;
                if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
            }
            return Math.max(0, 1.0 - Math.exp(lnPrefix) * sum);
        }
        double tiny = 1e-300, b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < 10000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double del = d * c;
            h *= del;
            if (Math.abs(del - 1) < 1e-15) break;
        }
        return Math.exp(lnPrefix) * h;
    }

    /** Lanczos approximation of ln Γ(x), x > 0. */
    static double logGamma(double x) {
        double[] g = {
            676.5203681218851,
            -1259.1392167224028,
            771.32342877765313,
            -176.61502916214059,
            12.507343278686905,
            -0.13857109526572012,
            9.9843695780195716e-6,
            1.5056327351493116e-7
        };
        if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
        x -= 1;
        double a = 0.99999999999980993, t = x + 7.5;
        for (int i = 0; i < 8; i++) a += g[i] / (x + i + 1);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }
}
