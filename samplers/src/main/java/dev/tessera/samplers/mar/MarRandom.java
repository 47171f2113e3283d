package dev.tessera.samplers.mar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.samplers.rng.TorchGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The random numbers of one MAR generation, in the official call order: the generation orders (NumPy's global
 * generator, one shuffle per image) and PyTorch's CPU draws ({@code torch.randn}, {@code randn_like},
 * {@code rand_like}). {@link #seeded} reproduces {@code np.random.seed(s); torch.manual_seed(s)}; {@link #injected}
 * replays draws recorded in a file. Has state: one per generation.
 */
public interface MarRandom extends CspdVerifier.Draws {

    /** The generation order of the next image: a permutation of {@code 0 .. n−1}. */
    int[] order(int n);

    /** The next Gaussian draw of {@code n} float32 values ({@code torch.randn} of that many, contiguous). */
    @Override
    float[] normal(int n);

    /** The next uniform draw of {@code n} float32 values in [0, 1) ({@code torch.rand_like}). */
    @Override
    float[] uniform(int n);

    /** {@code np.random.seed(seed)} for the orders and {@code torch.manual_seed(seed)} for the draws. */
    static MarRandom seeded(long seed) {
        NumpyShuffle np = new NumpyShuffle(seed & 0xffffffffL);
        TorchGenerator torch = new TorchGenerator(seed);
        return new MarRandom() {
            @Override
            public int[] order(int n) {
                return np.shuffledRange(n);
            }

            @Override
            public float[] normal(int n) {
                float[] a = new float[n];
                torch.fillNormal(a, 0, a.length);
                return a;
            }

            @Override
            public float[] uniform(int n) {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = torch.nextFloat();
                return a;
            }
        };
    }

    /** Draw keys: {@code <prefix>.randn.NNNN} (mar-small) or {@code <prefix>.draw.NNNN.<kind>} (cspd-small). */
    Pattern DRAW = Pattern.compile("(.+)\\.(?:randn\\.(\\d+)|draw\\.(\\d+)\\.(randn|randn_like|rand_like))");

    /**
     * Replays a recorded run: the orders from {@code <prefix>.orders} ({@code (B, n)}, row by row) and every draw in
     * call order from the draw tensors (see {@link #DRAW}); {@code rand_like} draws are uniforms, the others
     * Gaussians. A draw of another size or kind than the generation asks for is an error that names it.
     */
    static MarRandom injected(Checkpoint file) {
        TreeMap<Integer, String> draws = new TreeMap<>();
        String prefix = null;
        for (String key : file.keys()) {
            Matcher m = DRAW.matcher(key);
            if (!m.matches()) continue;
            prefix = m.group(1);
            draws.put(Integer.parseInt(m.group(2) != null ? m.group(2) : m.group(3)), key);
        }
        if (prefix == null) {
            throw new TesseraException(file.path() + ": no recorded draws ('<prefix>.randn.NNNN' or "
                    + "'<prefix>.draw.NNNN.<kind>' tensors)");
        }
        String ordersKey = prefix + ".orders";
        if (!file.contains(ordersKey)) throw new TesseraException(file.path() + ": no tensor '" + ordersKey + "'");
        long[] shape = file.tensor(ordersKey).shape();
        int[] orders = file.tensor(ordersKey).toIntArray();
        List<String> keys = new ArrayList<>(draws.values());
        return new MarRandom() {
            int image, next;

            @Override
            public int[] order(int n) {
                if (shape.length != 2 || shape[1] != n || image >= shape[0]) {
                    throw new TesseraException(
                            file.path() + ": '" + ordersKey + "' has no order of " + n + " tokens for image " + image);
                }
                int[] o = new int[n];
                System.arraycopy(orders, image++ * n, o, 0, n);
                return o;
            }

            private float[] take(int n, boolean uniform) {
                if (next >= keys.size()) {
                    throw new TesseraException(file.path() + ": the run needs more than the " + keys.size()
                            + " recorded draws (different settings?)");
                }
                String key = keys.get(next++);
                boolean isUniform = key.endsWith(".rand_like");
                float[] a = file.tensor(key).toFloatArray();
                if (a.length != n || isUniform != uniform) {
                    throw new TesseraException(
                            file.path() + ": draw '" + key + "' holds " + a.length + " values, the run" + " asks for "
                                    + n + (uniform ? " uniforms" : " Gaussians") + " (different settings?)");
                }
                return a;
            }

            @Override
            public float[] normal(int n) {
                return take(n, false);
            }

            @Override
            public float[] uniform(int n) {
                return take(n, true);
            }
        };
    }
}
