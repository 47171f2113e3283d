package dev.tessera.examples.cli;

import java.io.PrintStream;

/**
 * A {@code tessera} subcommand that lives in a module off the command's class path ({@code tessera bench}, in
 * examples/bench, with JMH): found with {@link java.util.ServiceLoader} when the launcher puts that module on the path.
 */
public interface SubcommandProvider {
    /** The subcommand's name ("bench"). */
    String name();

    /** The picocli command object, reporting on {@code out}. */
    Object command(PrintStream out);
}
