package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tessera.engine.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The golden sets vendored in {@code testdata/} are byte for byte the shared ones made from the official code
 * (testdata/README.md says "copied unchanged"): a vendored value edited by hand, set to NaN or moved, fails here
 * even where no parity test reads it.
 */
class VendoredGoldenTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "var-small",
                "llamagen-small",
                "nar-small",
                "flowar-small",
                "fid-small",
                "mar-small",
                "cspd-small"
            })
    void vendoredSetIsTheSharedOne(String set) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Golden.testdata().resolve(set))) {
            files = s.sorted().toList();
        }
        assertFalse(files.isEmpty(), set + " is vendored but empty");
        for (Path vendored : files) {
            Path shared = TestFiles.shared(set + "/" + vendored.getFileName());
            assertEquals(
                    -1L,
                    Files.mismatch(vendored, shared),
                    () -> vendored + " differs from " + shared
                            + " (a golden set that changes is a different golden set)");
        }
    }
}
