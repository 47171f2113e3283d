package dev.tessera.examples;

import dev.tessera.engine.TesseraException;
import dev.tessera.examples.cli.GroupCommand;
import dev.tessera.examples.cli.MissingBenchCommand;
import dev.tessera.examples.cli.MissingServeCommand;
import dev.tessera.examples.cli.SubcommandProvider;
import dev.tessera.examples.cli.Terminal;
import dev.tessera.examples.cli.TesseraCommand;
import dev.tessera.examples.cli.UsageException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.IFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code tessera} command line, on picocli. Errors a user can fix are one line on standard error, prefixed
 * {@code tessera: }, and a non-zero exit: 2 for a command line that cannot run (picocli's parameter errors included),
 * 1 for a failure while running; set {@code TESSERA_DEBUG=1} for stack traces. {@code --help} on any command exits 0;
 * {@code tessera} alone prints the usage and exits 2.
 */
public final class Main {
    /** Width of the generated help. */
    static final int HELP_WIDTH = 118;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /** Runs a command line; returns the exit status. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        try {
            return commandLine(out, err).execute(args.toArray(String[]::new));
        } catch (OutOfMemoryError e) {
            return outOfMemory(e, err);
        }
    }

    /**
     * The whole command tree, configured: commands report on {@code out}, help goes to {@code out}, errors to
     * {@code err} as one line. {@code bench} and {@code serve} come from their modules when they are on the class path.
     */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        IFactory factory = new Factory(out);
        CommandLine cl = new CommandLine(TesseraCommand.class, factory);
        List<SubcommandProvider> extra = new ArrayList<>();
        ServiceLoader.load(SubcommandProvider.class).forEach(extra::add);
        if (extra.stream().noneMatch(p -> p.name().equals("bench")))
            cl.addSubcommand("bench", new CommandLine(new MissingBenchCommand(out), factory));
        if (extra.stream().noneMatch(p -> p.name().equals("serve")))
            cl.addSubcommand("serve", new CommandLine(new MissingServeCommand(out), factory));
        for (SubcommandProvider p : extra) cl.addSubcommand(p.name(), new CommandLine(p.command(out), factory));
        // converters and settings reach the subcommands present when they are set: after the tree is complete
        cl.registerConverter(Double.class, Main::finiteDouble)
                .registerConverter(Double.TYPE, Main::finiteDouble)
                .registerConverter(Integer.class, Main::integer)
                .registerConverter(Integer.TYPE, Main::integer)
                .registerConverter(Long.class, Main::longInteger)
                .registerConverter(Long.TYPE, Main::longInteger);
        // picocli colours help when the JVM's console is a terminal; for a client of the background process, when
        // the client's is (and colour is not turned off)
        if (Terminal.CLIENT_TERMINAL.isBound()) {
            boolean colour = Terminal.CLIENT_TERMINAL.get()
                    && System.getenv("NO_COLOR") == null
                    && !"dumb".equals(System.getenv("TERM"));
            cl.setColorScheme(Help.defaultColorScheme(colour ? Help.Ansi.ON : Help.Ansi.OFF));
        }
        cl.setExpandAtFiles(false);
        cl.setUsageHelpAutoWidth(false);
        cl.setUsageHelpWidth(HELP_WIDTH);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        commandLists(cl);
        cl.setParameterExceptionHandler((e, args) -> usageError(e, err));
        cl.setExecutionExceptionHandler((e, line, parsed) -> failure(e, err));
        return cl;
    }

    /** Commands made with a {@code (PrintStream out)} constructor get the stream; mixins and the rest picocli makes. */
    private record Factory(PrintStream out) implements IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                var c = cls.getDeclaredConstructor(PrintStream.class);
                c.setAccessible(true);
                return c.newInstance(out);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

    private static int usageError(ParameterException e, PrintStream err) {
        err.println("tessera: " + oneLine(usageMessage(e)));
        if (debug()) e.printStackTrace(err);
        return 2;
    }

    /** picocli's parameter errors in the words of this command line, with a pointer to the command's help. */
    static String usageMessage(ParameterException e) {
        CommandLine cl = e.getCommandLine();
        String hint = " (see '" + cl.getCommandSpec().qualifiedName() + " --help')";
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().getFirst();
            if (arg.startsWith("-") && arg.length() > 1) {
                int eq = arg.indexOf('=');
                return "unknown option " + (eq > 0 ? arg.substring(0, eq) : arg) + hint;
            }
            if (cl.getCommand() instanceof GroupCommand g) {
                String available = cl.getSubcommands().keySet().stream()
                        .filter(n -> !n.equals("help"))
                        .collect(Collectors.joining(", "));
                return "unknown " + g.noun() + " '" + arg + "' (available: " + available + ")";
            }
            return "unexpected argument '" + arg + "'" + hint;
        }
        return e.getMessage() + hint;
    }

    private static int failure(Exception e, PrintStream err) {
        if (e instanceof UsageException || e instanceof ParameterException) {
            err.println("tessera: " + oneLine(e.getMessage()));
            if (debug()) e.printStackTrace(err);
            return 2;
        }
        if (e instanceof TesseraException) {
            err.println("tessera: " + oneLine(e.getMessage()));
        } else {
            err.println("tessera: internal error: " + oneLine(e.toString())
                    + (debug() ? "" : " (TESSERA_DEBUG=1 shows where)"));
        }
        if (debug()) e.printStackTrace(err);
        return 1;
    }

    private static int outOfMemory(OutOfMemoryError e, PrintStream err) {
        err.println("tessera: out of memory; give the JVM more with TESSERA_JAVA_OPTS=-Xmx16g (or generate fewer "
                + "images per call)");
        if (debug()) e.printStackTrace(err);
        return 1;
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    private static Double finiteDouble(String s) {
        try {
            double d = Double.parseDouble(s.strip());
            if (Double.isFinite(d)) return d;
        } catch (NumberFormatException e) {
            // below
        }
        throw new TypeConversionException("expects a number, got '" + s + "'");
    }

    private static Integer integer(String s) {
        long v = longInteger(s);
        if (v != (int) v) throw new TypeConversionException("out of range: " + s.strip());
        return (int) v;
    }

    private static Long longInteger(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("expects an integer, got '" + s + "'");
        }
    }

    /**
     * The command list of every group command is generated from the tree: each leaf command below it by its full
     * name ("generate var", "fid stats") with its header.
     */
    private static void commandLists(CommandLine cl) {
        if (cl.getCommand() instanceof GroupCommand) {
            cl.getHelpSectionMap()
                    .put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, help -> commandList(cl));
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getParent() == cl) commandLists(sub);
        }
    }

    private static String commandList(CommandLine cl) {
        List<CommandLine> leaves = new ArrayList<>();
        leaves(cl, leaves);
        int width = leaves.stream().mapToInt(l -> name(l).length()).max().orElse(0);
        StringBuilder sb = new StringBuilder();
        for (CommandLine leaf : leaves) {
            String[] header = leaf.getCommandSpec().usageMessage().header();
            for (int i = 0; i < Math.max(1, header.length); i++) {
                String text = header.length == 0 ? "" : Help.Ansi.OFF.string(header[i]);
                sb.append(String.format("  %-" + width + "s  %s%n", i == 0 ? name(leaf) : "", text));
            }
        }
        return sb.toString();
    }

    private static void leaves(CommandLine cl, List<CommandLine> into) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getParent() != cl || sub.getCommandName().equals("help")) continue;
            boolean group = sub.getCommand() instanceof GroupCommand
                    && !sub.getSubcommands().isEmpty();
            if (group) leaves(sub, into);
            else into.add(sub);
        }
    }

    /** "generate var": the qualified name without "tessera ". */
    private static String name(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        String q = spec.qualifiedName();
        return q.startsWith("tessera ") ? q.substring("tessera ".length()) : q;
    }

    private static boolean debug() {
        String d = System.getenv("TESSERA_DEBUG");
        return d != null && !d.isEmpty() && !d.equals("0");
    }
}
