package dev.tessera.examples.daemon;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * The background process's heap policy. The launcher's JVM options give memory back eagerly (a low
 * {@code MaxHeapFreeRatio} and a periodic collection), right for a one-shot command, but a process that runs one
 * command after another then gives its heap back between them and the next command touches fresh pages again
 * (about 3 µs a page on the development VM: VAR-d16 ran 0.5 to 1 s slower per command). So while commands come the
 * heap is kept ({@link #keep}), and after a quiet spell it is given back ({@link #trim}), through the two flags that
 * HotSpot lets a running process change. Where they cannot be changed, nothing changes.
 */
final class HeapTrim {
    private final HotSpotDiagnosticMXBean vm = bean();
    private final String maxFree = option("MaxHeapFreeRatio"), periodic = option("G1PeriodicGCInterval");
    private boolean trimmed = true;

    /** Keeps the heap from the next command on. */
    synchronized void keep() {
        if (!trimmed) return;
        set("MaxHeapFreeRatio", "100");
        set("G1PeriodicGCInterval", "0");
        trimmed = false;
    }

    /** Gives the heap back: the launch settings again, and a collection that shrinks it. */
    synchronized void trim() {
        if (trimmed) return;
        if (maxFree != null) set("MaxHeapFreeRatio", maxFree);
        if (periodic != null) set("G1PeriodicGCInterval", periodic);
        System.gc();
        trimmed = true;
    }

    private void set(String name, String value) {
        if (vm == null) return;
        try {
            vm.setVMOption(name, value);
        } catch (RuntimeException e) {
            // not manageable here (another collector): keep the launch setting
        }
    }

    private String option(String name) {
        if (vm == null) return null;
        try {
            return vm.getVMOption(name).getValue();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static HotSpotDiagnosticMXBean bean() {
        try {
            return ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
