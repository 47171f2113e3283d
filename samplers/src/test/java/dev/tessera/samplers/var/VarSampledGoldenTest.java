package dev.tessera.samplers.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.SafetensorsCheckpoint;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sampled (not greedy) generation, token for token: {@code testdata/var-sampled} holds the tokens the official
 * {@code autoregressive_infer_cfg} chose on CPU with {@code torch.Generator('cpu')} for the var-small weights, labels
 * [3, 7] and four settings (top-k with top-p, top-p only, Gumbel smoothing, the FID recipe). Tessera's generator
 * draws the same numbers as PyTorch's CPU generator, so the same seed gives the same tokens: this checks top-k,
 * top-p, the multinomial rule, the RNG stream and the {@code more_smooth} path together.
 */
class VarSampledGoldenTest {
    private static Checkpoint golden, var, vq;
    private static VarGenerator gen;
    private static List<Object> cases;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() {
        golden = Checkpoints.open(Golden.testdata().resolve("var-sampled/golden.safetensors"));
        cases = (List<Object>)
                Json.parse(((SafetensorsCheckpoint) golden).metadata().get("cases"));
        var = Checkpoints.open(Golden.testdata().resolve("var-small/var.pth"));
        vq = Checkpoints.open(Golden.testdata().resolve("var-small/vae.pth"));
        VarTransformer model = VarTransformer.load(var, 0, null, Ops.cpu());
        gen = new VarGenerator(model, MultiScaleVqVae.load(vq, model.config().patchNums(), 0.5f, Ops.cpu()));
    }

    @AfterAll
    static void close() {
        golden.close();
        var.close();
        vq.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    @SuppressWarnings("unchecked")
    void sampledTokensMatchTheOfficialCodeOnCpu(int c) {
        Map<String, Object> s = (Map<String, Object>) cases.get(c);
        VarSettings req = new VarSettings(
                ((Number) s.get("cfg")).doubleValue(),
                ((Number) s.get("top_k")).intValue(),
                ((Number) s.get("top_p")).doubleValue(),
                (Boolean) s.get("smooth"));
        VarDetails r = gen.generate(new int[] {3, 7}, ((Number) s.get("seed")).longValue(), req, Progress.NONE)
                .details();
        for (int si = 0; si < 10; si++) {
            assertArrayEquals(
                    golden.tensor("case" + c + ".tokens." + si).toIntArray(),
                    r.tokens().get(si),
                    "case " + c + " " + s + ", scale " + si);
        }
    }
}
