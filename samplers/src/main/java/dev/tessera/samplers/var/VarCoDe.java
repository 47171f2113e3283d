package dev.tessera.samplers.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.rng.TorchGenerator;
import java.util.Arrays;

/**
 * Collaborative decoding (CoDe, {@code czg1225/CoDe}, training-free mode): a large VAR, the drafter, generates the
 * coarse scales 0 .. N−1 with classifier-free guidance as {@link VarGenerator#generate} would; a small VAR, the
 * refiner, then reads the drafted token maps in one block-causal pass that fills its key/value cache, chooses scale N
 * from that pass's guided logits, and finishes the remaining scales alone. Both share one VQ-VAE, whose f_hat carries
 * over. Guidance at scale k uses {@code t = cfg·k/(SN−1)} with the global scale index in both models.
 *
 * <p>Random stream: one {@link TorchGenerator} seeded once, drawn by the drafter for scales 0 .. N−1 and then by the
 * refiner for scales N .. SN−1, exactly as a single {@link VarGenerator#generate} run draws per scale. The reference
 * code differs here on purpose: its refiner reseeds its generator and first draws throwaway tokens for the drafted
 * scales; those draws only shift the stream, so greedy results (top-k 1) are the same and sampled ones are equally
 * distributed.
 */
public final class VarCoDe {
    private final VarGenerator drafter, refiner;
    private final int draftScales;

    /**
     * @param draftScales N, the scales the drafter generates (1 .. SN−1)
     */
    public VarCoDe(VarGenerator drafter, VarGenerator refiner, int draftScales) {
        VarConfig d = drafter.model().config(), r = refiner.model().config();
        if (drafter.vae() != refiner.vae()) {
            throw new TesseraException("the drafter and the refiner must be built on the same VQ-VAE instance");
        }
        if (!Arrays.equals(d.patchNums(), r.patchNums())) {
            throw new TesseraException("the drafter and the refiner use different patch schedules");
        }
        if (d.numClasses() != r.numClasses()) {
            throw new TesseraException("the drafter has " + d.numClasses() + " classes, the refiner " + r.numClasses());
        }
        if (d.vocab() != r.vocab() || d.cvae() != r.cvae()) {
            throw new TesseraException("the drafter (vocab " + d.vocab() + ", Cvae " + d.cvae()
                    + ") and the refiner (vocab " + r.vocab() + ", Cvae " + r.cvae() + ") need the same VQ-VAE");
        }
        if (draftScales < 1 || draftScales >= r.scales()) {
            throw new TesseraException("the drafter must generate between 1 and " + (r.scales() - 1) + " of the "
                    + r.scales() + " scales, got " + draftScales);
        }
        this.drafter = drafter;
        this.refiner = refiner;
        this.draftScales = draftScales;
    }

    public VarGenerator drafter() {
        return drafter;
    }

    public VarGenerator refiner() {
        return refiner;
    }

    public int draftScales() {
        return draftScales;
    }

    /**
     * One image per class; the result's tokens are the whole pyramid (drafted scales, then refined ones) and its
     * timings add the drafter's transformer time to the refiner's per scale.
     */
    public Generation<VarDetails> generate(int[] classes, long seed, VarSettings settings, Progress progress) {
        refiner.checkClasses(classes, false);
        TorchGenerator rng = new TorchGenerator(seed);
        VarGenerator.Run draft = drafter.new Run(classes, rng, settings, progress);
        draft.scales(0, draftScales, null);
        draft.release();
        VarGenerator.Run refine = refiner.new Run(classes, rng, settings, progress);
        refine.prefill(draft);
        refine.scales(draftScales, refiner.model().config().scales(), null);
        return refine.finish();
    }
}
