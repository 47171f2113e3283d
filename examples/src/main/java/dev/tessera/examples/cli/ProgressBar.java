package dev.tessera.examples.cli;

import dev.tessera.samplers.Progress;

import java.io.PrintStream;

/**
 * A one-line progress bar on standard error, redrawn in place ({@code [#####.....] scale 5/10  2.1 s}); silent
 * when standard error is not a terminal, so logs and pipes stay clean.
 */
public final class ProgressBar implements Progress {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private final String label;
    private int lastLength;

    public ProgressBar(String label) {
        this(label, System.err, System.console() != null && System.getenv("TESSERA_NO_PROGRESS") == null);
    }

    public ProgressBar(String label, PrintStream out, boolean enabled) {
        this.label = label;
        this.out = out;
        this.enabled = enabled;
    }

    @Override
    public void update(String stage, int done, int total) {
        if (!enabled) return;
        int filled = total <= 0 ? 0 : (int) ((long) WIDTH * done / total);
        double seconds = (System.nanoTime() - start) * 1e-9;
        String line = String.format("%s [%s%s] %s %d/%d  %.1f s", label, "#".repeat(filled), ".".repeat(WIDTH - filled),
                stage, done, total, seconds);
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
    }

    /** Clears the bar (call before printing the summary). */
    public void finish() {
        if (!enabled || lastLength == 0) return;
        out.print("\r" + " ".repeat(lastLength) + "\r");
        out.flush();
        lastLength = 0;
    }
}
