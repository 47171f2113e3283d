package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/** Mixed_6a, 35×35 → 17×17: a strided 3×3 (384), 1×1 → 3×3 → strided 3×3 (96), and a 3×3/2 max pool of the input. */
final class InceptionB implements Block {
    private final ConvBn branch3x3, dbl1, dbl2, dbl3;

    InceptionB(Units u, String p, int cin) {
        branch3x3 = u.reduce(p + ".branch3x3", 384, cin, 3);
        dbl1 = u.same(p + ".branch3x3dbl_1", 64, cin, 1, 1);
        dbl2 = u.same(p + ".branch3x3dbl_2", 96, 64, 3, 3);
        dbl3 = u.reduce(p + ".branch3x3dbl_3", 96, 96, 3);
    }

    @Override
    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap pooled = Pooling.max3x3(ops, x, 2, 0);
        FeatureMap out = FeatureMap.allocate(ops, 384 + 96 + x.channels(), pooled.height(), pooled.width());
        branch3x3.apply(ops, x, out, 0);
        dbl3.apply(ops, dbl2.apply(ops, dbl1.apply(ops, x)), out, 384);
        System.arraycopy(pooled.data(), 0, out.data(), 480 * out.plane(), pooled.data().length);
        ops.hostWrote(out.data(), 480 * out.plane(), pooled.data().length); // the pool ran on the host
        return out;
    }
}
