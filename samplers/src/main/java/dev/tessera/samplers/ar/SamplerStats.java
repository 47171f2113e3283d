package dev.tessera.samplers.ar;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a sampler did for one image.
 *
 * @param sampler        "ar", "speculative", "lantern", "sjd"
 * @param images         images decoded together (a batched run shares its forward passes between them)
 * @param tokens         tokens generated, all images together
 * @param targetForwards forward passes of the target model (its condition pass included)
 * @param draftForwards  forward passes of the draft model (0 without one)
 * @param proposed       draft tokens put to the acceptance test
 * @param accepted       draft tokens accepted
 * @param seconds        wall time of the token loop (decoding to pixels excluded)
 */
public record SamplerStats(
        String sampler,
        int images,
        int tokens,
        int targetForwards,
        int draftForwards,
        int proposed,
        int accepted,
        double seconds) {

    /** Tokens of one image per target forward pass (1 for plain AR): the step compression. */
    public double tokensPerTargetForward() {
        return targetForwards == 0 ? 0 : (double) tokens / images / targetForwards;
    }

    /** Share of proposed draft tokens that were accepted (0 when none were proposed). */
    public double acceptanceRate() {
        return proposed == 0 ? 0 : (double) accepted / proposed;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sampler", sampler);
        m.put("images", images);
        m.put("tokens", tokens);
        m.put("target_forwards", targetForwards);
        m.put("draft_forwards", draftForwards);
        m.put("mean_accepted_tokens_per_target_forward", tokensPerTargetForward());
        m.put("proposed", proposed);
        m.put("accepted", accepted);
        m.put("acceptance_rate", acceptanceRate());
        m.put("seconds", seconds);
        return m;
    }
}
