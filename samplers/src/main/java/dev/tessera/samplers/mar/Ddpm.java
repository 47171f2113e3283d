package dev.tessera.samplers.mar;

/**
 * MAR's DDPM sampling schedule ({@code create_diffusion(str(K), noise_schedule="cosine")}, learned range variance,
 * ε-prediction): the cosine betas over 1000 steps, respaced to K kept steps, and the per-step coefficients. All
 * computed in float64 as NumPy does, and read as float32 as {@code _extract_into_tensor} hands them to the model.
 * Immutable.
 */
public final class Ddpm {
    /** Steps of the training schedule. */
    public static final int TRAIN_STEPS = 1000;

    private final int steps;
    private final long[] timestepMap;
    private final float[] sqrtRecip, sqrtRecipM1, coef1, coef2, minLog, maxLog;

    /** The schedule respaced to {@code steps} (1 to 1000) sampling steps. */
    public Ddpm(int steps) {
        if (steps < 1 || steps > TRAIN_STEPS)
            throw new IllegalArgumentException("diffusion steps must be 1 to " + TRAIN_STEPS + ", got " + steps);
        this.steps = steps;
        double[] base = new double[TRAIN_STEPS];
        double prod = 1.0;
        for (int i = 0; i < TRAIN_STEPS; i++) {
            double beta =
                    Math.min(1 - alphaBar((double) (i + 1) / TRAIN_STEPS) / alphaBar((double) i / TRAIN_STEPS), 0.999);
            prod *= 1.0 - beta;
            base[i] = prod; // alphas_cumprod
        }
        boolean[] keep = kept(TRAIN_STEPS, steps);
        double[] betas = new double[steps];
        timestepMap = new long[steps];
        double last = 1.0;
        for (int i = 0, k = 0; i < TRAIN_STEPS; i++) {
            if (!keep[i]) continue;
            betas[k] = 1 - base[i] / last;
            last = base[i];
            timestepMap[k++] = i;
        }
        sqrtRecip = new float[steps];
        sqrtRecipM1 = new float[steps];
        coef1 = new float[steps];
        coef2 = new float[steps];
        minLog = new float[steps];
        maxLog = new float[steps];
        double[] ac = new double[steps], acPrev = new double[steps], postVar = new double[steps];
        prod = 1.0;
        for (int i = 0; i < steps; i++) {
            acPrev[i] = prod;
            prod *= 1.0 - betas[i];
            ac[i] = prod;
        }
        for (int i = 0; i < steps; i++) {
            postVar[i] = betas[i] * (1.0 - acPrev[i]) / (1.0 - ac[i]);
            sqrtRecip[i] = (float) Math.sqrt(1.0 / ac[i]);
            sqrtRecipM1[i] = (float) Math.sqrt(1.0 / ac[i] - 1);
            coef1[i] = (float) (betas[i] * Math.sqrt(acPrev[i]) / (1.0 - ac[i]));
            coef2[i] = (float) ((1.0 - acPrev[i]) * Math.sqrt(1.0 - betas[i]) / (1.0 - ac[i]));
            maxLog[i] = (float) Math.log(betas[i]);
        }
        // posterior_log_variance_clipped: the first entry is the second one repeated (empty for a single step)
        for (int i = 0; i < steps; i++) minLog[i] = steps > 1 ? (float) Math.log(postVar[Math.max(i, 1)]) : 0f;
    }

    /** {@code ᾱ(u) = cos((u + 0.008)/1.008·π/2)²}. */
    static double alphaBar(double u) {
        double c = Math.cos((u + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /**
     * {@code space_timesteps(n, str(k))}: one section, stride {@code (n − 1)/(k − 1)} accumulated in float64 and
     * rounded half to even.
     */
    static boolean[] kept(int n, int k) {
        boolean[] keep = new boolean[n];
        double stride = k <= 1 ? 1 : (double) (n - 1) / (k - 1);
        double cur = 0.0;
        for (int i = 0; i < k; i++) {
            keep[(int) Math.rint(cur)] = true;
            cur += stride;
        }
        return keep;
    }

    public int steps() {
        return steps;
    }

    /** The original timestep the network sees at sampling step {@code i} ({@code timestep_map}). */
    public long timestep(int i) {
        return timestepMap[i];
    }

    /**
     * The mean and log-variance of {@code p(x_{i−1} | x_i)} from the network's ε and variance values, in float32 as
     * the official code computes them: {@code x0 = √(1/ᾱ)·x − √(1/ᾱ − 1)·ε},
     * {@code mean = c1·x0 + c2·x}, {@code logVar = f·log β + (1 − f)·logPostVar} with {@code f = (v + 1)/2}.
     */
    public void meanLogVar(int i, float x, float eps, float v, float[] meanLogVar, int at) {
        float frac = (v + 1f) / 2f;
        float lv = frac * maxLog[i] + (1f - frac) * minLog[i];
        float x0 = sqrtRecip[i] * x - sqrtRecipM1[i] * eps;
        meanLogVar[at] = coef1[i] * x0 + coef2[i] * x;
        meanLogVar[at + 1] = lv;
    }

    /** One sampling step: {@code mean + [i ≠ 0]·exp(½ logVar)·noise·temperature}, in float32 and this order. */
    public static float step(int i, float mean, float logVar, float noise, float temperature) {
        float nonzero = i != 0 ? 1f : 0f;
        return mean + nonzero * (float) Math.exp(0.5f * logVar) * noise * temperature;
    }
}
