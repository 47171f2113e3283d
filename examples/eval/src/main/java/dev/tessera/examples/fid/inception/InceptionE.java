package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/**
 * Mixed_7b/7c at 8×8: a 1×1 branch (320); 1×1 (384) feeding both a 1×3 and a 3×1 (384 + 384); 1×1 (448) → 3×3
 * (384) feeding both a 1×3 and a 3×1 (384 + 384); and a pool → 1×1 (192). The pool is the padding-excluding
 * average in Mixed_7b but a 3×3 stride-1 <em>max</em> pool in Mixed_7c: a quirk of the 2015 graph.
 */
final class InceptionE implements Block {
    private final ConvBn branch1x1, b3, b3a, b3b, d1, d2, d3a, d3b, pool;
    private final boolean maxPool;

    InceptionE(Units u, String p, int cin, boolean maxPool) {
        this.maxPool = maxPool;
        branch1x1 = u.same(p + ".branch1x1", 320, cin, 1, 1);
        b3 = u.same(p + ".branch3x3_1", 384, cin, 1, 1);
        b3a = u.same(p + ".branch3x3_2a", 384, 384, 1, 3);
        b3b = u.same(p + ".branch3x3_2b", 384, 384, 3, 1);
        d1 = u.same(p + ".branch3x3dbl_1", 448, cin, 1, 1);
        d2 = u.same(p + ".branch3x3dbl_2", 384, 448, 3, 3);
        d3a = u.same(p + ".branch3x3dbl_3a", 384, 384, 1, 3);
        d3b = u.same(p + ".branch3x3dbl_3b", 384, 384, 3, 1);
        pool = u.same(p + ".branch_pool", 192, cin, 1, 1);
    }

    @Override
    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap out = FeatureMap.allocate(ops, 2048, x.height(), x.width());
        branch1x1.apply(ops, x, out, 0);
        FeatureMap t = b3.apply(ops, x);
        b3a.apply(ops, t, out, 320);
        b3b.apply(ops, t, out, 704);
        FeatureMap d = d2.apply(ops, d1.apply(ops, x));
        d3a.apply(ops, d, out, 1088);
        d3b.apply(ops, d, out, 1472);
        pool.apply(ops, maxPool ? Pooling.max3x3(ops, x, 1, 1) : Pooling.average3x3(ops, x), out, 1856);
        return out;
    }
}
