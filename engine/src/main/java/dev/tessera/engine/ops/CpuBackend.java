package dev.tessera.engine.ops;

import dev.tessera.engine.TesseraException;
import java.util.List;

/** The built-in backend: {@code cpu} ({@link CpuOps}) and {@code cpu:reference} ({@link ReferenceOps}). */
public final class CpuBackend implements Backend {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<Device> devices() {
        return List.of(
                new Device("cpu", "Java Vector API, " + Runtime.getRuntime().availableProcessors() + " threads"),
                new Device("cpu:reference", "scalar reference kernels (the test oracle; slow)"));
    }

    @Override
    public Ops open(String selector) {
        return switch (selector) {
            case "" -> Ops.cpu();
            case "reference" -> Ops.reference();
            default ->
                throw new TesseraException("unknown CPU device 'cpu:" + selector + "' (expected cpu or cpu:reference)");
        };
    }
}
