package dev.tessera.samplers.ar;

import java.util.ArrayList;
import java.util.List;

/** Pearson's chi-square goodness of fit with cells of small expectation merged, and its p-value. */
final class ChiSquare {
    private ChiSquare() {
    }

    /** p-value of observed counts against expected probabilities (N = sum of counts); cells with E < 5 merged. */
    static double pValue(long[] observed, double[] probability) {
        long total = 0;
        for (long o : observed) total += o;
        List<double[]> cells = new ArrayList<>();
        double accE = 0, accO = 0;
        for (int i = 0; i < observed.length; i++) {
            accE += probability[i] * total;
            accO += observed[i];
            if (accE >= 5) {
                cells.add(new double[] {accO, accE});
                accE = 0;
                accO = 0;
            }
        }
        if (accE > 0 || accO > 0) {
            if (cells.isEmpty()) cells.add(new double[] {accO, accE});
            else {
                double[] last = cells.getLast();
                last[0] += accO;
                last[1] += accE;
            }
        }
        double x2 = 0;
        for (double[] c : cells) x2 += (c[0] - c[1]) * (c[0] - c[1]) / c[1];
        int df = cells.size() - 1;
        return df <= 0 ? 1.0 : upperGamma(df / 2.0, x2 / 2.0);
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
        double[] g = {676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
                12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
        if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
        x -= 1;
        double a = 0.99999999999980993, t = x + 7.5;
        for (int i = 0; i < 8; i++) a += g[i] / (x + i + 1);
        return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
    }
}
