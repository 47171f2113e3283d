package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/**
 * Mixed_5b/5c/5d at 35×35: a 1×1 branch (64), 1×1 → 5×5 (64), 1×1 → 3×3 → 3×3 (96), and a padding-excluding
 * 3×3 average pool → 1×1 ({@code poolFeatures}).
 */
final class InceptionA implements Block {
    private final ConvBn branch1x1, branch5x5a, branch5x5b, dbl1, dbl2, dbl3, pool;

    InceptionA(Units u, String p, int cin, int poolFeatures) {
        branch1x1 = u.same(p + ".branch1x1", 64, cin, 1, 1);
        branch5x5a = u.same(p + ".branch5x5_1", 48, cin, 1, 1);
        branch5x5b = u.same(p + ".branch5x5_2", 64, 48, 5, 5);
        dbl1 = u.same(p + ".branch3x3dbl_1", 64, cin, 1, 1);
        dbl2 = u.same(p + ".branch3x3dbl_2", 96, 64, 3, 3);
        dbl3 = u.same(p + ".branch3x3dbl_3", 96, 96, 3, 3);
        pool = u.same(p + ".branch_pool", poolFeatures, cin, 1, 1);
    }

    @Override
    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap out = FeatureMap.allocate(ops, 64 + 64 + 96 + pool.outChannels(), x.height(), x.width());
        branch1x1.apply(ops, x, out, 0);
        branch5x5b.apply(ops, branch5x5a.apply(ops, x), out, 64);
        dbl3.apply(ops, dbl2.apply(ops, dbl1.apply(ops, x)), out, 128);
        pool.apply(ops, Pooling.average3x3(ops, x), out, 224);
        return out;
    }
}
