package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/**
 * Mixed_6b..6e at 17×17 with factorised 7×7 convolutions: a 1×1 branch (192), 1×1 → 1×7 → 7×1 (192),
 * 1×1 → 7×1 → 1×7 → 7×1 → 1×7 (192), and a padding-excluding average pool → 1×1 (192). The first 192 output
 * channels are the 1×1 branch itself: in Mixed_6d that is TF's {@code mixed_6/conv}, the sFID tap.
 */
final class InceptionC implements Block {
    private final ConvBn branch1x1, b7a, b7b, b7c, d1, d2, d3, d4, d5, pool;

    InceptionC(Units u, String p, int c7) {
        branch1x1 = u.same(p + ".branch1x1", 192, 768, 1, 1);
        b7a = u.same(p + ".branch7x7_1", c7, 768, 1, 1);
        b7b = u.same(p + ".branch7x7_2", c7, c7, 1, 7);
        b7c = u.same(p + ".branch7x7_3", 192, c7, 7, 1);
        d1 = u.same(p + ".branch7x7dbl_1", c7, 768, 1, 1);
        d2 = u.same(p + ".branch7x7dbl_2", c7, c7, 7, 1);
        d3 = u.same(p + ".branch7x7dbl_3", c7, c7, 1, 7);
        d4 = u.same(p + ".branch7x7dbl_4", c7, c7, 7, 1);
        d5 = u.same(p + ".branch7x7dbl_5", 192, c7, 1, 7);
        pool = u.same(p + ".branch_pool", 192, 768, 1, 1);
    }

    @Override
    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap out = FeatureMap.allocate(ops, 768, x.height(), x.width());
        branch1x1.apply(ops, x, out, 0);
        b7c.apply(ops, b7b.apply(ops, b7a.apply(ops, x)), out, 192);
        d5.apply(ops, d4.apply(ops, d3.apply(ops, d2.apply(ops, d1.apply(ops, x)))), out, 384);
        pool.apply(ops, Pooling.average3x3(ops, x), out, 576);
        return out;
    }
}
