package dev.tessera.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.engine.TesseraException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@link GenerateBase#bundle}: the bundled folder, or one usage line naming the options that were not given. */
class BundleLookupTest {
    @Test
    void aPresentBundleIsItsFolder() {
        assertEquals(Path.of("fm"), GenerateBase.bundle(() -> Path.of("fm"), "--model/--vae"));
    }

    @Test
    void aMissingBundleIsAUsageErrorNamingTheOptions() {
        UsageException e = assertThrows(
                UsageException.class,
                () -> GenerateBase.bundle(
                        () -> {
                            throw new TesseraException(
                                    "the bundled MAR models are missing: no /x/mar-target.safetensors");
                        },
                        "--model/--vae"));
        assertEquals(
                "no --model/--vae given and the bundled MAR models are missing: no /x/mar-target.safetensors",
                e.getMessage());
    }
}
