package dev.tessera.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import org.junit.jupiter.api.Test;

/** Device specs: the CPU backend is always there, and a backend that is not on the class path is one readable line. */
class BackendsTest {

    @Test
    void cpuSpecsOpenTheBuiltInBackends() {
        assertSame(Ops.cpu(), Backends.open("cpu"));
        assertSame(Ops.reference(), Backends.open("cpu:reference"));
        assertEquals("cpu", Backends.all().get(0).name());
        assertTrue(
                Backends.all().get(0).devices().stream().anyMatch(d -> d.spec().equals("cpu")));
    }

    @Test
    void aMissingBackendOrDeviceIsOneReadableLine() {
        // the engine's own tests run without the tessera-opencl module
        TesseraException e = assertThrows(TesseraException.class, () -> Backends.open("opencl:0:0"));
        assertTrue(
                e.getMessage().contains("tessera-opencl module")
                        && !e.getMessage().contains("\n"),
                e.getMessage());
        e = assertThrows(TesseraException.class, () -> Backends.open("cuda"));
        assertTrue(
                e.getMessage().contains("no compute backend 'cuda'")
                        && e.getMessage().contains("available: cpu"),
                e.getMessage());
        e = assertThrows(TesseraException.class, () -> Backends.open("cpu:7"));
        assertTrue(e.getMessage().contains("cpu:7"), e.getMessage());
        assertThrows(TesseraException.class, () -> Backends.open(" "));
    }
}
