package dev.tessera.tokenizers.ldm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The VAE attention and residual blocks: CPU kernels vs reference kernels vs the plain definition. */
class BlocksTest {
    static float[] random(int n, long seed, double scale) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    static Conv2d conv(int cout, int cin, int k, long seed) {
        return new Conv2d(
                MemorySegment.ofArray(random(cout * cin * k * k, seed, 1.0 / Math.sqrt(cin * k * k))),
                random(cout, seed + 1, 0.1),
                cout,
                cin,
                k,
                k,
                1,
                k / 2,
                k / 2,
                k / 2,
                k / 2);
    }

    static GroupNorm norm(int c, long seed) {
        float[] w = random(c, seed, 0.2);
        for (int i = 0; i < c; i++) w[i] += 1f;
        return new GroupNorm(w, random(c, seed + 1, 0.1), 32, 1e-6f);
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void attentionBlockMatchesItsDefinition() {
        int C = 64, H = 6, W = 5, P = H * W;
        AttnBlock blk = new AttnBlock(norm(C, 1), conv(3 * C, C, 1, 3), conv(C, C, 1, 5));
        FeatureMap x = new FeatureMap(random(C * P, 7, 2.0), C, H, W);
        float[] cpu = blk.forward(Ops.cpu(), x, new Buffers()).data();
        float[] ref = blk.forward(Ops.reference(), x, new Buffers()).data();

        // the definition, written out: qkv = conv1x1(GN(x)); w = softmax_j(q_i·k_j / √C); out = x + proj(Σ_j w v_j)
        float[] gn = new float[C * P];
        Ops.reference().groupNorm(x.data(), 0, C, P, blk.norm(), false, gn, 0);
        float[] qkv = new float[3 * C * P];
        Ops.reference().conv2d(gn, 0, H, W, blk.qkv(), qkv, 0);
        float[] h = new float[C * P];
        for (int i = 0; i < P; i++) {
            double[] w = new double[P];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < P; j++) {
                double s = 0;
                for (int c = 0; c < C; c++) s += (double) qkv[c * P + i] * qkv[(C + c) * P + j];
                w[j] = s / Math.sqrt(C);
                max = Math.max(max, w[j]);
            }
            for (int j = 0; j < P; j++) sum += w[j] = Math.exp(w[j] - max);
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int j = 0; j < P; j++) s += w[j] / sum * qkv[(2 * C + c) * P + j];
                h[c * P + i] = (float) s;
            }
        }
        float[] def = new float[C * P];
        Ops.reference().conv2d(h, 0, H, W, blk.proj(), def, 0);
        for (int i = 0; i < def.length; i++) def[i] += x.data()[i];

        assertTrue(maxDiff(def, ref) < 1e-4, "reference ops vs definition: " + maxDiff(def, ref));
        assertTrue(maxDiff(def, cpu) < 1e-4, "cpu ops vs definition: " + maxDiff(def, cpu));
    }

    @Test
    void residualBlockWithShortcutMatchesAcrossBackends() {
        int cin = 64, cout = 32, H = 9, W = 7;
        ResnetBlock blk = new ResnetBlock(
                norm(cin, 11), conv(cout, cin, 3, 13), norm(cout, 15), conv(cout, cout, 3, 17), conv(cout, cin, 1, 19));
        FeatureMap x = new FeatureMap(random(cin * H * W, 21, 1.5), cin, H, W);
        float[] cpu = blk.forward(Ops.cpu(), x, new Buffers()).data(),
                ref = blk.forward(Ops.reference(), x, new Buffers()).data();
        assertTrue(maxDiff(ref, cpu) < 1e-4, "resnet block: " + maxDiff(ref, cpu));
    }
}
