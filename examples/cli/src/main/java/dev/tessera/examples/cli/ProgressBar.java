package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
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
    private String rateUnit;
    private int rateFrom = -1;
    private long rateStart;
    private PrintStream log;
    private long logEvery, lastLog;

    public ProgressBar(String label) {
        this(label, System.err, Terminal.interactive());
    }

    public ProgressBar(String label, PrintStream out, boolean enabled) {
        this.label = label;
        this.out = out;
        this.enabled = enabled;
    }

    /**
     * Also shows the rate in {@code unit}/s and the time left, measured from the first update (so a resumed run's
     * earlier work does not count).
     */
    public ProgressBar withRate(String unit) {
        this.rateUnit = unit;
        return this;
    }

    /**
     * When the bar is silent (no terminal: a log file), prints a plain status line to {@code log} at most every
     * {@code seconds} instead, so that a long run shows its progress there.
     */
    public ProgressBar withLogLines(PrintStream log, double seconds) {
        this.log = log;
        this.logEvery = (long) (seconds * 1e9);
        return this;
    }

    /**
     * Redraws the bar. Also where a long run notices that its client went away: the background process interrupts a
     * command whose client disconnected (Ctrl-C), and the run stops here, before anything is written.
     */
    @Override
    public void update(String stage, int done, int total) {
        if (Thread.currentThread().isInterrupted()) throw new TesseraException("cancelled (the client went away)");
        long now = System.nanoTime();
        if (rateFrom < 0) {
            rateFrom = done;
            rateStart = now;
        }
        String rate = rateUnit == null ? "" : rateSuffix(done, total, (now - rateStart) * 1e-9);
        if (!enabled) {
            if (log != null && (now - lastLog >= logEvery || done == total)) {
                log.printf("%s: %s %d/%d%s%n", label, stage, done, total, rate);
                lastLog = now;
            }
            return;
        }
        int filled = total <= 0 ? 0 : (int) ((long) WIDTH * done / total);
        double seconds = (now - start) * 1e-9;
        String line = String.format(
                        "%s [%s%s] %s %d/%d  %.1f s",
                        label, "#".repeat(filled), ".".repeat(WIDTH - filled), stage, done, total, seconds)
                + rate;
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
    }

    /** "  0.16 images/s, ETA 2h05m" once something was done since the start. */
    String rateSuffix(int done, int total, double seconds) {
        int since = done - rateFrom;
        if (since <= 0 || seconds <= 0) return "";
        double rate = since / seconds;
        return String.format("  %.3g %s/s, ETA %s", rate, rateUnit, duration((total - done) / rate));
    }

    /** 45s, 12m05s, 3h07m, 2d04h. */
    public static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format("%dm%02ds", s / 60, s % 60);
        if (s < 86400) return String.format("%dh%02dm", s / 3600, s % 3600 / 60);
        return String.format("%dd%02dh", s / 86400, s % 86400 / 3600);
    }

    /** Clears the bar (call before printing the summary). */
    public void finish() {
        if (!enabled || lastLength == 0) return;
        out.print("\r" + " ".repeat(lastLength) + "\r");
        out.flush();
        lastLength = 0;
    }
}
