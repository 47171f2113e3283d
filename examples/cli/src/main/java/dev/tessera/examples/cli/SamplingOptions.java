package dev.tessera.examples.cli;

import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.var.VarSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --cfg --top-k --top-p}, shared by the token-sampling commands. The defaults shown in the help are the
 * family's official settings ({@link VarSettings#OFFICIAL}, {@link TokenSettings#OFFICIAL}), passed in by the command.
 */
public final class SamplingOptions {
    @Option(names = "--cfg", paramLabel = "F", description = "classifier-free guidance (default ${DEFAULT-VALUE})")
    double cfg;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            description = "keep the K largest logits (default ${DEFAULT-VALUE}; 0 = off; 1 = greedy)")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling threshold (default ${DEFAULT-VALUE})")
    double topP;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    SamplingOptions(double cfg, int topK, double topP) {
        this.cfg = cfg;
        this.topK = topK;
        this.topP = topP;
    }

    static SamplingOptions of(VarSettings s) {
        return new SamplingOptions(s.cfg(), s.topK(), s.topP());
    }

    static SamplingOptions of(TokenSettings s) {
        return new SamplingOptions(
                s.cfg(), s.distribution().topK(), s.distribution().topP());
    }

    /** VAR's settings: the given options over {@code defaults} (the official ones, or the bundled model's card). */
    VarSettings var(VarSettings defaults, boolean moreSmooth) {
        double c = given("--cfg") ? cfg : defaults.cfg(), p = given("--top-p") ? topP : defaults.topP();
        int k = given("--top-k") ? topK : defaults.topK();
        if (k < 0) throw new UsageException("--top-k must be >= 0, got " + k);
        if (p < 0 || p > 1) throw new UsageException("--top-p must be in [0, 1], got " + p);
        return new VarSettings(c, k, p, moreSmooth);
    }

    boolean given(String option) {
        return CommandBase.given(mixee, option);
    }
}
