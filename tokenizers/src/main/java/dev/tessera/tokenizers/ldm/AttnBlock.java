package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Weights;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;

/**
 * Single-head self-attention over all pixels: {@code q, k, v = 1×1 convs of GN(x)},
 * {@code w[i, j] = softmax_j(q_i·k_j / √C)}, {@code out = x + proj_out(Σ_j w[i, j]·v_j)}.
 *
 * <p>VAR stores the three projections as one {@code qkv} conv ({@code [3C, C, 1, 1]}); the original LDM code
 * (MAR, LlamaGen) stores {@code q}, {@code k}, {@code v} separately; both load into one fused projection.
 */
public record AttnBlock(GroupNorm norm, Conv2d qkv, Conv2d proj) {

    public static AttnBlock load(Checkpoint ckpt, String prefix) {
        GroupNorm norm = ConvNet.norm(ckpt, prefix + ".norm");
        Conv2d qkv;
        if (ckpt.contains(prefix + ".qkv.weight")) {
            qkv = Conv2d.load(ckpt, prefix + ".qkv");
        } else {
            Conv2d q = Conv2d.load(ckpt, prefix + ".q"),
                    k = Conv2d.load(ckpt, prefix + ".k"),
                    v = Conv2d.load(ckpt, prefix + ".v");
            int C = q.cout();
            float[] w = new float[3 * C * C], b = new float[3 * C];
            Conv2d[] parts = {q, k, v};
            for (int p = 0; p < 3; p++) {
                MemorySegment.copy(parts[p].weight(), Weights.F32, 0, w, p * C * C, C * C);
                System.arraycopy(parts[p].bias(), 0, b, p * C, C);
            }
            qkv = new Conv2d(MemorySegment.ofArray(w), b, 3 * C, C, 1, 1, 1, 0, 0, 0, 0);
        }
        return new AttnBlock(norm, qkv, Conv2d.load(ckpt, prefix + ".proj_out"));
    }

    /** Returns a new map; {@code x} stays the caller's. */
    public FeatureMap forward(Ops ops, FeatureMap x, Buffers buf) {
        int C = x.channels(), P = x.pixels();
        FeatureMap n = ConvNet.groupNorm(ops, norm, x, false, buf);
        FeatureMap qkvMap = ConvNet.conv(ops, qkv, n, buf);
        buf.give(n);
        float[] all = qkvMap.data();
        // attention wants queries and values pixel-major ([P, C]) and keys channel-major ([C, P], as produced): the
        // transposes and the copy run where the backend keeps the maps
        float[] q = buf.take(C * P), v = buf.take(C * P), kT = buf.take(C * P);
        ops.transpose(all, 0, C, P, q, 0);
        ops.transpose(all, 2 * C * P, C, P, v, 0);
        ops.copy(all, C * P, kT, 0, C * P);
        buf.give(qkvMap);
        float[] o = buf.take(P * C);
        float scale = (float) Math.pow(C, -0.5);
        ops.attention(1, 1, P, C, q, 0, C, kT, v, P, P, false, new float[] {scale}, o, 0, C);
        buf.give(q);
        buf.give(v);
        buf.give(kT);
        FeatureMap h = new FeatureMap(buf.take(C * P), C, x.height(), x.width());
        ops.transpose(o, 0, P, C, h.data(), 0);
        buf.give(o);
        FeatureMap out = ConvNet.conv(ops, proj, h, buf);
        buf.give(h);
        ConvNet.addInPlace(ops, out, x);
        return out;
    }
}
