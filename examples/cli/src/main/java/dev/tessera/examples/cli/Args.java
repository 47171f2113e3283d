package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small GNU-style option parser: {@code --name value}, {@code --name=value}, repeatable options, boolean flags,
 * and positional arguments. Every problem is a {@link UsageException} naming the option.
 */
public final class Args {
    private final String command;
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * @param command      how to refer to the command in messages ("tessera generate var")
     * @param valueOptions options that take a value (without the leading dashes)
     * @param flagOptions  options that take none
     */
    public static Args parse(String command, List<String> argv, Set<String> valueOptions, Set<String> flagOptions) {
        Args a = new Args(command);
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.equals("--")) {
                a.positional.addAll(argv.subList(i + 1, argv.size()));
                break;
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                a.positional.add(arg);
                continue;
            }
            String name = arg.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flagOptions.contains(name)) {
                if (value != null) throw new UsageException("--" + name + " takes no value (" + a.hint() + ")");
                a.values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
            } else if (valueOptions.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.size()) throw new UsageException("--" + name + " needs a value (" + a.hint() + ")");
                    value = argv.get(++i);
                }
                a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } else {
                throw new UsageException("unknown option --" + name + " (" + a.hint() + ")");
            }
        }
        return a;
    }

    private String hint() {
        return "see '" + command + " --help'";
    }

    public List<String> positional() {
        return positional;
    }

    /** For commands that take options only: the first positional argument is refused. */
    public void rejectPositional() {
        if (!positional.isEmpty()) throw new UsageException("unexpected argument '" + positional.get(0) + "' (" + hint() + ")");
    }

    /** Every value of a repeatable option that must be given at least once. */
    public List<String> requireAll(String name) {
        List<String> v = all(name);
        if (v.isEmpty()) throw new UsageException("missing --" + name + " (" + hint() + ")");
        return v;
    }

    /**
     * The element format of linear-layer weights for the models this command loads: {@code --weights f32|bf16};
     * without the option, {@code -Dtessera.weights} (read here, by the command line only), else f32. It is passed
     * to loading; nothing process-wide changes. bfloat16 is announced on {@code notes}, since its results differ
     * from the checkpoint's.
     */
    public WeightPanels.Format weights(java.io.PrintStream notes) {
        String v = get("weights");
        WeightPanels.Format f;
        if (v == null) {
            String p = System.getProperty("tessera.weights");
            f = p == null ? WeightPanels.Format.F32 : WeightPanels.Format.parse(p);
            if (f == null) throw new UsageException("-Dtessera.weights=" + p + ": expected f32 or bf16");
        } else {
            f = WeightPanels.Format.parse(v);
            if (f == null) throw new UsageException("--weights expects f32 or bf16, got '" + v + "'");
        }
        if (f == WeightPanels.Format.BF16) {
            notes.println("linear weights in bfloat16: results differ slightly from the float32 checkpoint's");
        }
        return f;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** All values of a repeatable option, in order. */
    public List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    /** The value of a single-valued option, or null; given twice is an error. */
    public String get(String name) {
        List<String> v = values.get(name);
        if (v == null) return null;
        if (v.size() > 1) throw new UsageException("--" + name + " is given " + v.size() + " times (" + hint() + ")");
        return v.get(0);
    }

    public String require(String name) {
        String v = get(name);
        if (v == null) throw new UsageException("missing --" + name + " (" + hint() + ")");
        return v;
    }

    public long getLong(String name, long fallback) {
        String v = get(name);
        if (v == null) return fallback;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + v + "'");
        }
    }

    public int getInt(String name, int fallback) {
        long v = getLong(name, fallback);
        if (v != (int) v) throw new UsageException("--" + name + " is out of range: " + v);
        return (int) v;
    }

    public double getDouble(String name, double fallback) {
        String v = get(name);
        if (v == null) return fallback;
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a number, got '" + v + "'");
        }
    }

    /** A comma-separated list of positive integers, e.g. {@code 1,2,3,4,5,6,8,10,13,16}. */
    public int[] getIntList(String name) {
        String v = get(name);
        if (v == null) return null;
        String[] parts = v.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " expects comma-separated integers, got '" + v + "'");
            }
            if (out[i] <= 0) throw new UsageException("--" + name + " values must be positive, got '" + v + "'");
        }
        return out;
    }
}
