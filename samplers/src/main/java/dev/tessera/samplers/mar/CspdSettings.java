package dev.tessera.samplers.mar;

import java.util.Objects;

/**
 * Continuous speculative decoding (CSpD, {@code MarkXCloud/CSpD}) on MAR: a draft MAR proposes tokens along the
 * noises it shares with the target, the target checks every {@code gamma} steps.
 *
 * @param gamma            verify after every gamma draft steps ({@code num_draft}), and at the last step
 * @param prefill          the target itself generates the steps {@code s ≤ prefill·numIter} (token pre-filling)
 * @param innerTemperature T_in of the released rule (divides both Gaussians' deviations in the acceptance test)
 * @param rule             the acceptance rule
 */
public record CspdSettings(int gamma, double prefill, double innerTemperature, Rule rule) {

    /** How a drafted token is accepted and how a rejected one is replaced. */
    public enum Rule {
        /**
         * The released runner's rule: ratio {@code N(x; μp, σp·T)/N(x; μq, σq·T)·Πσq/Πσp·F} with F the product
         * over the earlier diffusion steps of σp/σq, rejection phase from {@code max(0, p − q/F)/p}.
         */
        RELEASED,
        /**
         * The textbook rule with exact last-step densities: accept with {@code min(1, p(x)/q(x))}, otherwise sample
         * {@code (p − q)₊} by acceptance–rejection from p (bound 1). No inner temperature, no F.
         */
        EXACT
    }

    /** The released runner's defaults: gamma 8 ({@code num_draft}), pre-fill 0.15, T_in 42, its rule. */
    public static final CspdSettings RELEASED_DEFAULTS = new CspdSettings(8, 0.15, 42.0, Rule.RELEASED);

    /** Rejection rounds before a token falls back to the target's last proposal (the released code's cap). */
    public static final int MAX_REJECTION_ROUNDS = 100;

    public CspdSettings {
        if (gamma < 1) throw new IllegalArgumentException("--gamma must be at least 1, got " + gamma);
        if (!(prefill >= 0 && prefill <= 1))
            throw new IllegalArgumentException("--prefill must be in [0, 1], got " + prefill);
        if (!(innerTemperature > 0) || Double.isInfinite(innerTemperature))
            throw new IllegalArgumentException("--inner-temperature must be positive, got " + innerTemperature);
        Objects.requireNonNull(rule);
    }
}
