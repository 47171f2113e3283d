package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/**
 * Mixed_7a, 17×17 → 8×8: 1×1 → strided 3×3 (320), 1×1 → 1×7 → 7×1 → strided 3×3 (192), and a 3×3/2 max pool of
 * the input (768).
 */
final class InceptionD implements Block {
    private final ConvBn b3a, b3b, b7a, b7b, b7c, b7d;

    InceptionD(Units u, String p, int cin) {
        b3a = u.same(p + ".branch3x3_1", 192, cin, 1, 1);
        b3b = u.reduce(p + ".branch3x3_2", 320, 192, 3);
        b7a = u.same(p + ".branch7x7x3_1", 192, cin, 1, 1);
        b7b = u.same(p + ".branch7x7x3_2", 192, 192, 1, 7);
        b7c = u.same(p + ".branch7x7x3_3", 192, 192, 7, 1);
        b7d = u.reduce(p + ".branch7x7x3_4", 192, 192, 3);
    }

    @Override
    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap pooled = Pooling.max3x3(ops, x, 2, 0);
        FeatureMap out = FeatureMap.allocate(ops, 320 + 192 + x.channels(), pooled.height(), pooled.width());
        b3b.apply(ops, b3a.apply(ops, x), out, 0);
        b7d.apply(ops, b7c.apply(ops, b7b.apply(ops, b7a.apply(ops, x))), out, 320);
        System.arraycopy(pooled.data(), 0, out.data(), 512 * out.plane(), pooled.data().length);
        ops.hostWrote(out.data(), 512 * out.plane(), pooled.data().length); // the pool ran on the host
        return out;
    }
}
