package dev.tessera.examples.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.examples.fid.inception.Preprocessing;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The plan the Spark tasks receive is the driver's plan, the family's options (MAR's) included. */
class PlanSpecTest {
    @Test
    void aPlanWithFamilyOptionsSurvivesTheTripToAnExecutor() throws Exception {
        SampleGenerator.Sampling sampling = new SampleGenerator.Sampling(3.0, 0, 1.0, 1.0)
                .withOptions(Map.of("num_iter", "4", "heads", "2,2", "sampler", "cspd", "draft", "/models/d.pth"));
        EvalPlan plan = new EvalPlan(
                ModelFamily.MAR,
                Path.of("/models/mar.pth").toAbsolutePath(),
                Path.of("/models/kl16.ckpt").toAbsolutePath(),
                20,
                2,
                7,
                4,
                sampling,
                WeightPanels.Format.F32,
                Path.of("/models/inception.pth").toAbsolutePath(),
                Preprocessing.values()[0]);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(PlanSpec.of(plan)); // as Spark ships a task's closure
        }
        PlanSpec received;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            received = (PlanSpec) in.readObject();
        }
        EvalPlan back = received.plan();
        assertEquals(sampling, back.sampling());
        assertEquals(plan.family(), back.family());
        assertEquals(plan.model(), back.model());
        assertEquals(plan.seed(), back.seed());
        assertEquals(plan.batch(), back.batch());
    }
}
