package dev.tessera.samplers.flowar;

import dev.tessera.samplers.mar.CspdSettings;
import java.util.Objects;

/**
 * The CSpD-style verifier on FlowAR (an approximation of the target, see {@link FlowCspdSampler}): a draft FlowAR
 * makes each scale's Euler–Maruyama trajectory along the noise it shares with the target, and the target checks the
 * last step's Gaussian at the draft's state.
 *
 * @param prefill          the target itself makes the scales {@code s ≤ prefill·S} along its own trajectory (scale
 *                         0 always, as CSpD's step 0)
 * @param innerTemperature T_in of the released rule (divides both Gaussians' deviations in the acceptance test)
 * @param rule             the acceptance rule, MAR's CSpD rules ({@link CspdSettings.Rule}); on FlowAR both models'
 *                         step deviations are the same, so the released rule's product F is 1 and it differs from
 *                         the exact one only by the inner temperature
 */
public record FlowCspdSettings(double prefill, double innerTemperature, CspdSettings.Rule rule) {

    /**
     * Pre-fill 0.15 and T_in 42 as MAR's CSpD defaults, the exact rule: at T_in 42 the released test passes nearly
     * every draft at FlowAR's last-step deviation (about 0.057), which would make the output the draft's.
     */
    public static final FlowCspdSettings DEFAULTS = new FlowCspdSettings(
            CspdSettings.RELEASED_DEFAULTS.prefill(),
            CspdSettings.RELEASED_DEFAULTS.innerTemperature(),
            CspdSettings.Rule.EXACT);

    public FlowCspdSettings {
        if (!(prefill >= 0 && prefill <= 1))
            throw new IllegalArgumentException("--prefill must be in [0, 1], got " + prefill);
        if (!(innerTemperature > 0) || Double.isInfinite(innerTemperature))
            throw new IllegalArgumentException("--inner-temperature must be positive, got " + innerTemperature);
        Objects.requireNonNull(rule);
    }

    /** Whether the target makes scale {@code si} of {@code scales} itself. */
    boolean prefilled(int si, int scales) {
        return si <= prefill * scales;
    }
}
