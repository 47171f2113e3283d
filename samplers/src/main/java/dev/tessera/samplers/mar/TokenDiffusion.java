package dev.tessera.samplers.mar;

import dev.tessera.engine.models.mar.DiffusionMlp;

/**
 * MAR's {@code DiffLoss.sample}: DDPM from Gaussian noise to one token per condition, classifier-free guidance inside
 * the network ({@code forward_with_cfg}: the conditional half's x is fed to both halves, ε mixed as
 * {@code u + s·(c − u)}, each half keeping its own variance values). Only the conditional half's chain is tracked:
 * it is all the official code returns. Optionally keeps what continuous speculative decoding needs of each token:
 * the last step's mean and standard deviation (times the temperature) and the sum over the earlier steps of
 * {@code ½·logVar}.
 */
final class TokenDiffusion {
    private TokenDiffusion() {}

    /** Where a token batch's Gaussian noise comes from. */
    interface Noise {
        /** The starting x of the n conditional rows ({@code n·D} values). */
        float[] start(int n, int D);

        /**
         * The noise of sampling step {@code i} (K−1 down to 0) for the rows the official code draws it for
         * ({@code rows} = 2n under guidance); the first {@code n·D} values are the conditional rows'.
         */
        float[] step(int i, int rows, int n, int D);
    }

    /**
     * The sampled tokens and, when asked for, per token and channel: the last step's mean (the token itself) and
     * std·τ, and {@code Σ_{i ≥ 1} ½·logVar_i} (CSpD's {@code log_var}, accumulated in float32 from step K−1 down).
     */
    record Result(float[] tokens, float[] lastStd, float[] logSigmaSum) {}

    /**
     * Samples n tokens from the conditions {@code z} (2n rows under guidance: conditional then unconditional).
     *
     * @param cspdRounding the released CSpD code's order of the step's float32 products,
     *                     {@code mean + (nz·(exp(½lv)·τ))·noise}, and its statistics; otherwise MAR's
     *                     {@code mean + ((nz·exp(½lv))·noise)·τ}
     */
    static Result sample(
            DiffusionMlp head,
            Ddpm ddpm,
            float[] z,
            int n,
            boolean guided,
            float cfg,
            float temperature,
            Noise noise,
            boolean cspdRounding) {
        int D = head.tokenDim(), rows = guided ? 2 * n : n;
        DiffusionMlp.Context ctx = head.prepare(z, 0, rows);
        float[] x = noise.start(n, D);
        float[] in = new float[rows * D], out = new float[rows * 2 * D], ml = new float[2];
        float[] lastStd = cspdRounding ? new float[n * D] : null, logSum = cspdRounding ? new float[n * D] : null;
        for (int i = ddpm.steps() - 1; i >= 0; i--) {
            System.arraycopy(x, 0, in, 0, n * D);
            if (guided) System.arraycopy(x, 0, in, n * D, n * D);
            head.forward(ctx, rows, in, ddpm.timestep(i), out);
            float[] e = noise.step(i, rows, n, D);
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < D; c++) {
                    float eps = out[r * 2 * D + c];
                    if (guided) {
                        float u = out[(n + r) * 2 * D + c];
                        eps = u + cfg * (eps - u);
                    }
                    int k = r * D + c;
                    ddpm.meanLogVar(i, x[k], eps, out[r * 2 * D + D + c], ml, 0);
                    float mean = ml[0], lv = ml[1];
                    if (cspdRounding) {
                        float std = (float) Math.exp(0.5f * lv) * temperature;
                        float nonzero = i != 0 ? 1f : 0f;
                        x[k] = mean + nonzero * std * e[k];
                        if (i == 0) lastStd[k] = std;
                        else logSum[k] += 0.5f * lv;
                    } else {
                        x[k] = Ddpm.step(i, mean, lv, e[k], temperature);
                    }
                }
            }
        }
        return new Result(x, lastStd, logSum);
    }
}
