package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.var.VarSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** The help of every command is generated from its options: each --help exits 0 and shows every option it accepts. */
class CommandHelpTest {
    /** Every command of the tree, as the words that name it ("generate", "var"). */
    static List<List<String>> commands(CommandLine cl, List<String> path, List<List<String>> into) {
        into.add(path);
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getValue().getParent() != cl || e.getKey().equals("help")) continue;
            List<String> sub = new ArrayList<>(path);
            sub.add(e.getKey());
            commands(e.getValue(), sub, into);
        }
        return into;
    }

    static CommandLine tree() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        return Main.commandLine(sink, sink);
    }

    static CommandLine find(CommandLine top, List<String> path) {
        CommandLine cl = top;
        for (String p : path) cl = cl.getSubcommands().get(p);
        return cl;
    }

    @Test
    void everyCommandsHelpExitsZeroAndListsEveryOptionItAccepts() {
        // picocli reports a help text it cannot format (e.g. a lone '%') on System.err
        PrintStream systemErr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true));
        try {
            everyHelp();
        } finally {
            System.setErr(systemErr);
        }
        assertEquals("", warnings.toString(), "picocli warnings");
    }

    private void everyHelp() {
        CommandLine top = tree();
        List<List<String>> all = commands(top, List.of(), new ArrayList<>());
        assertTrue(all.size() >= 12, "commands: " + all);
        for (List<String> path : all) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            Cli r = Cli.run(args.toArray(String[]::new));
            String name = String.join(" ", path);
            assertEquals(0, r.status(), name + ": " + r.err());
            assertEquals("", r.err(), name);
            CommandLine cl = find(top, path);
            for (OptionSpec o : cl.getCommandSpec().options()) {
                assertFalse(o.hidden(), name + ": " + o.longestName() + " is accepted but hidden from the help");
                for (String n : o.names())
                    assertTrue(r.out().contains(n), name + ": help does not show " + n + ":\n" + r.out());
            }
            for (PositionalParamSpec p : cl.getCommandSpec().positionalParameters()) {
                assertFalse(p.hidden(), name + ": a hidden positional parameter");
                assertTrue(r.out().contains(p.paramLabel()), name + ": help does not show " + p.paramLabel());
            }
            for (String sub : cl.getSubcommands().keySet()) {
                if (!sub.equals("help")) assertTrue(r.out().contains(sub), name + ": help does not list " + sub);
            }
        }
    }

    @Test
    void theQuantResiOptionIsDocumented() {
        Cli r = Cli.run("generate", "var", "--help");
        assertTrue(r.out().contains("--quant-resi"), r.out());
    }

    @Test
    void defaultsShownAreThoseOfTheSettingsTypes() {
        String var = Cli.run("generate", "var", "--help").out();
        assertTrue(var.contains("(default " + VarSettings.OFFICIAL.cfg() + ")"), var);
        assertTrue(var.contains("(default " + VarSettings.OFFICIAL.topK() + ";"), var);
        assertTrue(var.contains("(default " + VarSettings.OFFICIAL.topP() + ")"), var);
        String nar = Cli.run("generate", "nar", "--help").out();
        assertTrue(nar.contains("(default " + TokenSettings.OFFICIAL.cfg() + ")"), nar);
        assertTrue(
                nar.contains("(default " + TokenSettings.OFFICIAL.distribution().temperature() + ")"), nar);
    }

    @Test
    void aloneTheCommandPrintsItsUsageAndExitsTwo() {
        for (String[] args : new String[][] {{}, {"generate"}, {"fid"}}) {
            Cli r = Cli.run(args);
            assertEquals(2, r.status(), String.join(" ", args));
            assertTrue(r.out().contains("Usage: tessera"), r.out());
        }
        Cli top = Cli.run();
        for (String c : new String[] {
            "generate var", "generate flowar", "eval", "fid stats", "convert", "models", "bench", "serve"
        }) {
            assertTrue(top.out().contains(c), c + " in:\n" + top.out());
        }
        assertEquals(0, Cli.run("help").status());
        assertEquals(0, Cli.run("help", "generate").status());
    }

    /** picocli's own parameter errors are one line, name the option, and exit 2. */
    @Test
    void parameterErrorsAreOneLineNamingTheOption() {
        String[][] cases = {
            {"--seed", "x", "--seed"}, {"--cfg", "NaN", "--cfg"}, {"--seed", "1", "--seed", "2", "--seed"},
            {"--frobnicate", "--frobnicate"}, {"--top-k", "--top-k"}, {"--patch-nums", "1,x", "--patch-nums"},
            {"--threads", "0", "--threads"}, {"stray", "stray"}
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("generate", "var", "--class", "1", "--out", "never.png"));
            args.addAll(List.of(c).subList(0, c.length - 1));
            Cli r = Cli.run(args.toArray(String[]::new));
            String err = r.err().strip();
            assertEquals(2, r.status(), err);
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("tessera: ") && err.contains(c[c.length - 1]), err);
            assertFalse(err.contains("Exception"), err);
        }
        Cli bench = Cli.run("bench", "var");
        assertEquals(2, bench.status());
        assertEquals(
                "tessera: bench is not on the class path (run it with ./tessera bench, which adds examples/bench)",
                bench.err().strip());
        Cli serve = Cli.run("serve", "--port", "0");
        assertEquals(2, serve.status());
        assertEquals(
                "tessera: serve is not on the class path (run it with ./tessera serve, which adds examples/serve)",
                serve.err().strip());
    }
}
