package dev.tessera.examples.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.Main;
import dev.tessera.examples.cli.UsageException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --model NAME=FAMILY:PART,...}: each wrong specification is one readable usage error, before any loading. */
class ServeModelSpecTest {
    static final String
            FLOWAR = Http.TESTDATA.resolve("flowar-small/flowar.pth").toString(),
            VAE = Http.TESTDATA.resolve("flowar-small/vae.pth").toString(),
            MAR = Http.TESTDATA.resolve("cspd-small/target.pth").toString();

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "x=flowar:FLOWAR | the flowar model needs its vae file",
                "x=mar:MAR,vae=VAE,heads=two | heads= takes a whole number 1-4096, got 'two'",
                "x=mar:MAR,vae=VAE,heads=2/3/4 | heads= takes N or E/D",
                "x=flowar:FLOWAR,vq=VAE | flowar takes no 'vq=' (it takes model=, vae=, heads=)",
                "x=nar:FLOWAR,/no/vq.pt | no such file: /no/vq.pt (vq)",
                "x=mar:MAR,VAE,MAR,MAR | expected NAME=var:MODEL,VAE",
                "x=sd:FLOWAR | family 'sd' is not served",
                "x=flowar:FLOWAR,VAE,model=FLOWAR | model is given twice",
                "x=mar:MAR,VAE,draft-heads=2 | draft-heads= goes with a draft file",
                "x y=flowar:FLOWAR,VAE | a name is 1-64 letters",
            })
    void wrongSpecificationsAreOneLine(String spec, String message) {
        String s = spec.replace("FLOWAR", FLOWAR).replace("VAE", VAE).replace("MAR", MAR);
        UsageException e = assertThrows(
                UsageException.class, () -> Models.load(List.of(s), false, WeightPanels.Format.F32, Ops.cpu()));
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(e.getMessage().startsWith("--model "), e.getMessage());
    }

    /** Files by key in any order, or by position: the same model and the same command line for the CLI. */
    @Test
    void keysAndPositionsNameTheSameFiles() {
        for (String spec : List.of("f=flowar:" + FLOWAR + "," + VAE, "f=flowar:vae=" + VAE + ",model=" + FLOWAR)) {
            try (Models m = Models.load(List.of(spec), false, WeightPanels.Format.F32, Ops.cpu())) {
                ServedModel f = m.byName("f");
                assertEquals("flowar", f.family());
                assertEquals(List.of("--model", FLOWAR, "--vae", VAE), f.loadArgs());
                assertEquals(256, f.imageSide());
            }
        }
    }

    @Test
    void helpDescribesEveryFamilysForm() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(List.of("serve", "--help"), new PrintStream(out), new PrintStream(out)));
        for (String form : List.of("NAME=nar:MODEL,VQ", "NAME=flowar:MODEL,VAE", "NAME=mar:MODEL,VAE", "vae=FILE"))
            assertTrue(out.toString().contains(form), form + " in " + out);
    }
}
