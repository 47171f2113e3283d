package dev.tessera.samplers.flowar;

import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.samplers.SamplingSettings;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongFunction;

/**
 * How FlowAR samples. The official settings depend on the model size: {@link #officialFor}.
 *
 * @param cfg      classifier-free guidance; the scale-wise strength ramps from 1 at the first scale to cfg at the
 *                 last ({@code 1 + (cfg − 1)·step/(S − 1)}); 1 turns guidance and the unconditional branch off
 * @param guidance guidance applies only while {@code t ≤ guidance}
 * @param steps    solver steps ({@code num_steps}: 25 gives 24 Euler evaluations per scale, 50 gives 50)
 * @param solver   the ODE/SDE solver
 * @param noise    makes the noise source of each generation from its seed (null: {@link FlowNoise#seeded}); a fresh
 *                 source per call, so a call gives the same images every time and from any thread
 * @param cspd     the CSpD-style verifier with the pipeline's draft model (null: the model alone); needs the
 *                 Euler–Maruyama solver
 */
public record FlowArSettings(
        double cfg,
        double guidance,
        int steps,
        FlowSampler solver,
        LongFunction<FlowNoise> noise,
        FlowCspdSettings cspd)
        implements SamplingSettings {

    public FlowArSettings {
        if (steps < 2) throw new IllegalArgumentException("at least 2 steps are needed");
        if (!(cfg >= 1.0)) throw new IllegalArgumentException("cfg must be at least 1 (1 = no guidance)");
        Objects.requireNonNull(solver);
        if (cspd != null && solver != FlowSampler.EULER_MARUYAMA)
            throw new IllegalArgumentException(
                    "the CSpD-style verifier needs the euler-maruyama solver (its last " + "step's Gaussian), not "
                            + solver.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }

    /** Settings without the CSpD-style verifier. */
    public FlowArSettings(double cfg, double guidance, int steps, FlowSampler solver, LongFunction<FlowNoise> noise) {
        this(cfg, guidance, steps, solver, noise, null);
    }

    /**
     * The official settings of the released sizes, Euler solver: FlowAR-S (width 768) 25 steps, cfg 4.3, guidance
     * 0.9; FlowAR-L (1024) 25, 2.4, 0.9; FlowAR-H (1536) 50, 2.4, 0.7. Other widths get FlowAR-S's.
     */
    public static FlowArSettings officialFor(FlowArConfig c) {
        return switch (c.width()) {
            case 1024 -> new FlowArSettings(2.4, 0.9, 25, FlowSampler.EULER, null);
            case 1536 -> new FlowArSettings(2.4, 0.7, 50, FlowSampler.EULER, null);
            default -> new FlowArSettings(4.3, 0.9, 25, FlowSampler.EULER, null);
        };
    }

    /** The noise source of a generation with {@code seed}: the injected one, or the seeded stream. */
    FlowNoise noiseSource(long seed) {
        return noise != null ? noise.apply(seed) : FlowNoise.seeded(seed);
    }

    public FlowArSettings withCfg(double c) {
        return new FlowArSettings(c, guidance, steps, solver, noise, cspd);
    }

    public FlowArSettings withGuidance(double g) {
        return new FlowArSettings(cfg, g, steps, solver, noise, cspd);
    }

    public FlowArSettings withSteps(int s) {
        return new FlowArSettings(cfg, guidance, s, solver, noise, cspd);
    }

    public FlowArSettings withSolver(FlowSampler s) {
        return new FlowArSettings(cfg, guidance, steps, s, noise, cspd);
    }

    /**
     * Where each generation's noise comes from, e.g. {@code seed -> FlowNoise.injected(file, FlowNoise.seeded(seed))}.
     */
    public FlowArSettings withNoise(LongFunction<FlowNoise> n) {
        return new FlowArSettings(cfg, guidance, steps, solver, n, cspd);
    }

    /**
     * The CSpD-style verifier with the pipeline's draft (null: off). Switches the solver to Euler–Maruyama, the
     * only one with a last-step Gaussian.
     */
    public FlowArSettings withCspd(FlowCspdSettings c) {
        return new FlowArSettings(cfg, guidance, steps, c != null ? FlowSampler.EULER_MARUYAMA : solver, noise, c);
    }
}
