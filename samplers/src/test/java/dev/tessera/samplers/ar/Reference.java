package dev.tessera.samplers.ar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The exact distributions the sampler tests compare against, written from LlamaGen's rules in double precision
 * and independently of {@link TokenDistribution}: guidance {@code u + (c − u)·cfg}, logits divided by
 * {@code max(T, 1e-5)}, top-k keeps the logits ≥ the k-th largest, top-p (descending order) drops every entry after
 * the first whose cumulative probability exceeds p, softmax.
 *
 * <p>The implementation decides top-k and top-p in float32; where a toy's value sits within {@link #MARGIN} of such
 * a decision the two could legitimately disagree, so the reference refuses the toy instead of guessing.
 */
final class Reference {
    private Reference() {}

    static final double MARGIN = 1e-5;

    /** The token choice under test: temperature, top-k (0 = off), top-p (1 = off) and the guidance scale (0 = none). */
    record Setting(String name, double temperature, int topK, double topP, float cfg) {
        TokenDistribution distribution() {
            return new TokenDistribution(temperature, topK, topP);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The processed distribution of one position from the model's raw logits ({@code u} null without guidance). */
    static double[] probabilities(float[] c, float[] u, Setting s) {
        int V = c.length;
        double[] l = new double[V];
        for (int v = 0; v < V; v++) l[v] = u == null ? c[v] : u[v] + ((double) c[v] - u[v]) * s.cfg();
        double t = Math.max(s.temperature(), 1e-5);
        for (int v = 0; v < V; v++) l[v] /= t;
        if (s.topK() > 0 && s.topK() < V) {
            double[] sorted = l.clone();
            Arrays.sort(sorted);
            double kth = sorted[V - s.topK()];
            if (kth - sorted[V - s.topK() - 1] < MARGIN)
                throw new IllegalArgumentException("top-k: a near tie at the k-th logit");
            for (int v = 0; v < V; v++) if (l[v] < kth) l[v] = Double.NEGATIVE_INFINITY;
        }
        if (s.topP() < 1) {
            double[] p = softmax(l);
            Integer[] order = new Integer[V];
            for (int v = 0; v < V; v++) order[v] = v;
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            double cum = 0;
            for (int i = 0; i < V; i++) {
                if (i > 0 && Math.abs(cum - s.topP()) < MARGIN)
                    throw new IllegalArgumentException("top-p: a cumulative sum " + cum + " at p");
                if (i > 0 && cum > s.topP()) l[order[i]] = Double.NEGATIVE_INFINITY;
                cum += p[order[i]];
            }
        }
        return softmax(l);
    }

    static double[] softmax(double[] l) {
        double max = Double.NEGATIVE_INFINITY;
        for (double x : l) max = Math.max(max, x);
        double[] p = new double[l.length];
        double sum = 0;
        for (int v = 0; v < l.length; v++) {
            p[v] = l[v] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(l[v] - max);
            sum += p[v];
        }
        for (int v = 0; v < l.length; v++) p[v] /= sum;
        return p;
    }

    /** The processed distribution of the token after {@code prefix} of a toy. */
    static double[] probabilities(ToySequence toy, List<Integer> prefix, Setting s) {
        return probabilities(toy.conditional(prefix), toy.isGuided() ? toy.unconditional(prefix) : null, s);
    }

    /**
     * The probability of every sequence of {@code T} tokens (index: base-V number, first token most significant)
     * when each token is drawn from the processed distribution given the tokens before it.
     */
    static double[] sequences(ToySequence toy, int T, Setting s) {
        int V = toy.vocab();
        double[] out = new double[(int) Math.pow(V, T)];
        fill(toy, s, new ArrayList<>(), 1.0, 0, T, out);
        return out;
    }

    private static void fill(
            ToySequence toy, Setting s, List<Integer> prefix, double mass, int index, int T, double[] out) {
        if (prefix.size() == T) {
            out[index] = mass;
            return;
        }
        double[] p = probabilities(toy, prefix, s);
        for (int v = 0; v < p.length; v++) {
            prefix.add(v);
            fill(toy, s, prefix, mass * p[v], index * p.length + v, T, out);
            prefix.removeLast();
        }
    }

    static int encode(int[] seq, int V) {
        int s = 0;
        for (int t : seq) s = s * V + t;
        return s;
    }

    /**
     * LANTERN's relaxed verification target for candidate x, written from the paper's rule: the nearest
     * neighbours {@code nb[0..k)} of x, in order, are merged into x as long as their cumulative mass stays within
     * the budget (δ ≤ 1; LANTERN++'s {@code (λ−1)·p(x)} above 1). Returns {p̃, {m}}.
     */
    static double[][] relaxed(double[] p, int x, int[] nb, int k, double delta) {
        double bound = delta > 1 ? (delta - 1) * p[x] : delta, c = 0;
        int m = 0;
        for (int j = 0; j < k; j++) {
            c += p[nb[j]];
            if (Math.abs(c - bound) < MARGIN && c != bound)
                throw new IllegalArgumentException("LANTERN: a cumulative mass at the budget");
            if (c > bound) break;
            m = j + 1;
        }
        double[] r = p.clone();
        for (int j = 0; j < m; j++) {
            r[x] += p[nb[j]];
            r[nb[j]] = 0;
        }
        return new double[][] {r, {m}};
    }

    /**
     * One verified slot of chain speculative decoding with a per-candidate verification target: the draft x ~ q is
     * accepted with {@code min(1, t_x(x)/q(x))}, otherwise the output is drawn from {@code norm((t_x − q)₊)} (t_x
     * itself where that vanishes). Returns {P(accepted, out = y), P(rejected, out = y)}.
     */
    static double[][] verifiedSlot(double[] q, double[][] targetOf) {
        int V = q.length;
        double[][] out = new double[2][V];
        for (int x = 0; x < V; x++) {
            if (q[x] == 0) continue;
            double[] t = targetOf[x];
            double a = Math.min(1, t[x] / q[x]);
            out[0][x] += q[x] * a;
            double[] r = new double[V];
            double s = 0;
            for (int y = 0; y < V; y++) {
                r[y] = Math.max(0, t[y] - q[y]);
                s += r[y];
            }
            for (int y = 0; y < V; y++) out[1][y] += q[x] * (1 - a) * (s > 0 ? r[y] / s : t[y]);
        }
        return out;
    }

    /**
     * The probability of every sequence of {@code T} tokens under chain speculative decoding with γ drafts per
     * round and LANTERN's relaxed verification (neighbour lists {@code nb}, k, δ). Token 0 and a round's last
     * token after all its drafts passed come from the target p itself; the other positions are verified slots
     * ({@link #verifiedSlot}), and a rejection ends the round. Which rounds a sequence went through is hidden, so
     * each prefix carries the probability of every possible start of the current round (forward algorithm).
     */
    static double[] lanternSequences(
            ToySequence target, ToySequence draft, int T, Setting s, int gamma, int[][] nb, int k, double delta) {
        int V = target.vocab();
        double[] out = new double[(int) Math.pow(V, T)];
        double[] start = new double[T + 1]; // by the position where the current round began
        double[] p0 = probabilities(target, List.of(), s);
        for (int y = 0; y < V; y++) {
            double[] st = start.clone();
            st[1] = p0[y];
            List<Integer> prefix = new ArrayList<>(List.of(y));
            chain(target, draft, T, s, gamma, nb, k, delta, prefix, st, y, out);
        }
        return out;
    }

    private static void chain(
            ToySequence target,
            ToySequence draft,
            int T,
            Setting s,
            int gamma,
            int[][] nb,
            int k,
            double delta,
            List<Integer> prefix,
            double[] start,
            int index,
            double[] out) {
        int t = prefix.size(), V = target.vocab();
        if (t == T) {
            double m = 0;
            for (double x : start) m += x;
            out[index] = m;
            return;
        }
        double[] p = probabilities(target, prefix, s), q = probabilities(draft, prefix, s);
        double[][] targetOf = new double[V][];
        for (int x = 0; x < V; x++) targetOf[x] = relaxed(p, x, nb[x], k, delta)[0];
        double[][] slot = verifiedSlot(q, targetOf);
        double[][] next = new double[V][T + 1];
        for (int n0 = 1; n0 <= t; n0++) {
            if (start[n0] == 0) continue;
            int g = Math.min(gamma, T - n0 - 1);
            for (int y = 0; y < V; y++) {
                if (t - n0 < g) {
                    next[y][n0] += start[n0] * slot[0][y]; // accepted: the round goes on
                    next[y][t + 1] += start[n0] * slot[1][y]; // rejected: the next round starts after y
                } else {
                    next[y][t + 1] += start[n0] * p[y]; // the round's last token
                }
            }
        }
        for (int y = 0; y < V; y++) {
            prefix.add(y);
            chain(target, draft, T, s, gamma, nb, k, delta, prefix, next[y], index * V + y, out);
            prefix.removeLast();
        }
    }

    /** The nearest other codes of every code, by Euclidean distance, nearest first (ties: lower index). */
    static int[][] neighbours(double[][] codebook) {
        int n = codebook.length;
        int[][] out = new int[n][];
        for (int a = 0; a < n; a++) {
            final int self = a;
            double[] d = new double[n];
            for (int b = 0; b < n; b++) {
                double s = 0;
                for (int j = 0; j < codebook[a].length; j++)
                    s += (codebook[a][j] - codebook[b][j]) * (codebook[a][j] - codebook[b][j]);
                d[b] = Math.sqrt(s);
            }
            out[a] = IntStream.range(0, n)
                    .filter(b -> b != self)
                    .boxed()
                    .sorted((x, y) -> d[x] != d[y] ? Double.compare(d[x], d[y]) : Integer.compare(x, y))
                    .mapToInt(Integer::intValue)
                    .toArray();
        }
        return out;
    }
}
