package dev.tessera.opencl;

import java.util.ArrayList;
import java.util.List;

/** A set of disjoint half-open ranges {@code [lo, hi)} of array indices, kept sorted and merged. Not thread-safe. */
final class Ranges {
    private final List<long[]> ranges = new ArrayList<>(); // sorted by lo, disjoint, not touching

    /** Adds {@code [lo, hi)}. */
    void add(long lo, long hi) {
        if (lo >= hi) return;
        List<long[]> out = new ArrayList<>(ranges.size() + 1);
        boolean placed = false;
        for (long[] r : ranges) {
            if (r[1] < lo) {
                out.add(r);
            } else if (r[0] > hi) {
                if (!placed) {
                    out.add(new long[] {lo, hi});
                    placed = true;
                }
                out.add(r);
            } else { // overlaps or touches: merge into the new range
                lo = Math.min(lo, r[0]);
                hi = Math.max(hi, r[1]);
            }
        }
        if (!placed) out.add(new long[] {lo, hi});
        ranges.clear();
        ranges.addAll(out);
    }

    /** Removes {@code [lo, hi)}. */
    void subtract(long lo, long hi) {
        if (lo >= hi || ranges.isEmpty()) return;
        List<long[]> out = new ArrayList<>(ranges.size() + 1);
        for (long[] r : ranges) {
            if (r[1] <= lo || r[0] >= hi) {
                out.add(r);
                continue;
            }
            if (r[0] < lo) out.add(new long[] {r[0], lo});
            if (r[1] > hi) out.add(new long[] {hi, r[1]});
        }
        ranges.clear();
        ranges.addAll(out);
    }

    /** The parts of the set inside {@code [lo, hi)}, in order (copies). */
    List<long[]> within(long lo, long hi) {
        List<long[]> out = new ArrayList<>();
        for (long[] r : ranges) {
            long a = Math.max(lo, r[0]), b = Math.min(hi, r[1]);
            if (a < b) out.add(new long[] {a, b});
        }
        return out;
    }

    /** Elements in the set. */
    long total() {
        long t = 0;
        for (long[] r : ranges) t += r[1] - r[0];
        return t;
    }

    boolean isEmpty() {
        return ranges.isEmpty();
    }
}
