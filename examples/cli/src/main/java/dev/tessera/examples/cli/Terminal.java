package dev.tessera.examples.cli;

/**
 * Whether the person running a command sees its standard error on a terminal (then progress is drawn as a bar).
 * A command run in this process asks the JVM; a command the background process runs for a client is told by the
 * client, through {@link #CLIENT_TERMINAL} bound for that run.
 */
public final class Terminal {
    /** Bound while the background process runs a client's command: whether the client's stderr is a terminal. */
    public static final ScopedValue<Boolean> CLIENT_TERMINAL = ScopedValue.newInstance();

    private Terminal() {}

    /** True when progress may be drawn in place (and {@code TESSERA_NO_PROGRESS} is not set). */
    public static boolean interactive() {
        boolean terminal = CLIENT_TERMINAL.isBound() ? CLIENT_TERMINAL.get() : System.console() != null;
        return terminal && System.getenv("TESSERA_NO_PROGRESS") == null;
    }
}
