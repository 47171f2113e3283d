package dev.tessera.samplers.mar;

import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.samplers.SamplingSettings;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * How MAR samples. The official settings: {@link #officialFor}.
 *
 * @param numIter        MAR steps (the cosine schedule unmasks all tokens in this many steps)
 * @param cfg            classifier-free guidance scale; 1 turns guidance and the unconditional rows off
 * @param schedule       how the guidance scale grows over the steps
 * @param temperature    scales the diffusion noise (not the starting noise)
 * @param diffusionSteps DDPM sampling steps of the diffusion MLP ({@code num_sampling_steps})
 * @param random         the random numbers of a generation from its seed (null: {@link MarRandom#seeded})
 * @param cspd           continuous speculative decoding with the pipeline's draft model (null: the target alone)
 */
public record MarSettings(
        int numIter,
        double cfg,
        CfgSchedule schedule,
        double temperature,
        int diffusionSteps,
        LongFunction<MarRandom> random,
        CspdSettings cspd)
        implements SamplingSettings {

    /** The guidance schedule of {@code sample_tokens}. */
    public enum CfgSchedule {
        /** {@code 1 + (cfg − 1)·(L − mask_len)/L}: from about 1 at the first step to cfg at the last. */
        LINEAR,
        /** cfg at every step. */
        CONSTANT
    }

    public MarSettings {
        if (numIter < 1) throw new IllegalArgumentException("--num-iter must be at least 1, got " + numIter);
        if (!(cfg >= 1.0)) throw new IllegalArgumentException("--cfg must be at least 1 (1 = no guidance), got " + cfg);
        if (!(temperature > 0) || Double.isInfinite(temperature))
            throw new IllegalArgumentException("--temperature must be positive, got " + temperature);
        if (diffusionSteps < 1 || diffusionSteps > Ddpm.TRAIN_STEPS)
            throw new IllegalArgumentException("--diffusion-steps must be 1 to 1000, got " + diffusionSteps);
        Objects.requireNonNull(schedule);
    }

    /**
     * The official evaluation settings (the MAR README): 256 steps, 100 diffusion steps, temperature 1, linear
     * guidance 2.9 for MAR-B (width 768), 3.0 for MAR-L (1024), 3.2 for MAR-H (1280); other widths get MAR-B's.
     */
    public static MarSettings officialFor(MarConfig c) {
        double cfg = switch (c.encoderWidth()) {
            case 1024 -> 3.0;
            case 1280 -> 3.2;
            default -> 2.9;
        };
        return new MarSettings(256, cfg, CfgSchedule.LINEAR, 1.0, 100, null, null);
    }

    MarRandom randomFor(long seed) {
        return random != null ? random.apply(seed) : MarRandom.seeded(seed);
    }

    public MarSettings withNumIter(int n) {
        return new MarSettings(n, cfg, schedule, temperature, diffusionSteps, random, cspd);
    }

    public MarSettings withCfg(double c) {
        return new MarSettings(numIter, c, schedule, temperature, diffusionSteps, random, cspd);
    }

    public MarSettings withSchedule(CfgSchedule s) {
        return new MarSettings(numIter, cfg, s, temperature, diffusionSteps, random, cspd);
    }

    public MarSettings withTemperature(double t) {
        return new MarSettings(numIter, cfg, schedule, t, diffusionSteps, random, cspd);
    }

    public MarSettings withDiffusionSteps(int k) {
        return new MarSettings(numIter, cfg, schedule, temperature, k, random, cspd);
    }

    /** Where each generation's random numbers come from, e.g. {@code seed -> MarRandom.injected(file)}. */
    public MarSettings withRandom(LongFunction<MarRandom> r) {
        return new MarSettings(numIter, cfg, schedule, temperature, diffusionSteps, r, cspd);
    }

    /** Continuous speculative decoding with the pipeline's draft model (null: off). */
    public MarSettings withCspd(CspdSettings s) {
        return new MarSettings(numIter, cfg, schedule, temperature, diffusionSteps, random, s);
    }
}
