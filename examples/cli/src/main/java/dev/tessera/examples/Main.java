package dev.tessera.examples;

import dev.tessera.engine.TesseraException;
import dev.tessera.examples.cli.ConvertCommand;
import dev.tessera.examples.cli.Devices;
import dev.tessera.examples.cli.EvalCommand;
import dev.tessera.examples.cli.FidCommand;
import dev.tessera.examples.cli.GenerateLlamaGenCommand;
import dev.tessera.examples.cli.GenerateFlowArCommand;
import dev.tessera.examples.cli.GenerateNarCommand;
import dev.tessera.examples.cli.GenerateVarCommand;
import dev.tessera.examples.cli.ModelsCommand;
import dev.tessera.examples.cli.UsageException;

import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/**
 * The {@code tessera} command line. Errors a user can fix are one line on standard error and a non-zero exit
 * (2 for a command line that cannot run, 1 for a failure while running); set {@code TESSERA_DEBUG=1} for stack traces.
 */
public final class Main {
    static final String HELP = """
            Tessera: visual autoregressive image generation (VAR, LlamaGen, NAR, FlowAR) in plain Java.

            Usage: tessera COMMAND [options]      (tessera COMMAND --help for the options of each)

            Commands:
              generate var       class-conditional images with VAR (next-scale prediction) -> PNG
              generate llamagen  class-conditional images with LlamaGen (raster AR; speculative, LANTERN, SJD)
              generate nar       class-conditional images with NAR (next-neighbour decoding)
              generate flowar    class-conditional images with FlowAR (next-scale, flow-matching head)
              models             the bundled models (Fashion-MNIST zoo: the default of generate var)
              eval               generate N class-balanced samples; report FID, sFID, IS, precision/recall, KID
                                 (--metrics fmnist: class accuracy and judge FID of a Fashion-MNIST model)
              fid features       Inception pool3 features of a folder of images (.npy)
              fid stats          FID statistics of a folder of images (pytorch-fid .npz)
              fid distance       the Frechet distance of two statistics files
              convert            re-save a .pth checkpoint as .safetensors
              bench MODEL        seconds per image with random weights of the released shapes
                                 (var, llamagen, nar, flowar; bench kernels runs the JMH kernels)
              devices            the compute devices --device can name (cpu, opencl:P:D)

            Examples:
              tessera generate var --class sneaker --out sneaker.png      (the bundled Fashion-MNIST VAR)
              tessera generate var --model var_d16.pth --vae vae_ch160v4096z32.pth --class 207 --out dog.png
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    /** Runs a command line; returns the exit status. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        try {
            return dispatch(args, out);
        } catch (UsageException e) {
            err.println("tessera: " + e.getMessage());
            return 2;
        } catch (TesseraException e) {
            err.println("tessera: " + e.getMessage());
            if (debug()) e.printStackTrace(err);
            return 1;
        } catch (OutOfMemoryError e) {
            err.println("tessera: out of memory; give the JVM more with TESSERA_JAVA_OPTS=-Xmx16g (or generate fewer images per call)");
            if (debug()) e.printStackTrace(err);
            return 1;
        } catch (RuntimeException e) {
            err.println("tessera: internal error: " + e + (debug() ? "" : " (TESSERA_DEBUG=1 shows where)"));
            if (debug()) e.printStackTrace(err);
            return 1;
        }
    }

    private static int dispatch(List<String> args, PrintStream out) {
        if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals("help")) {
            out.print(HELP);
            return args.isEmpty() ? 2 : 0;
        }
        String cmd = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (cmd) {
            case "generate" -> {
                if (rest.isEmpty() || rest.get(0).equals("--help")) {
                    out.print("""
                            Usage: tessera generate MODEL_FAMILY [options]

                            Model families:
                              var        VAR next-scale prediction (tessera generate var --help)
                              llamagen   LlamaGen raster AR, with speculative / LANTERN / SJD samplers
                              nar        NAR next-neighbour decoding (31 forward passes for 16x16 tokens)
                              flowar     FlowAR next-scale generation with a flow-matching head
                            """);
                    return rest.isEmpty() ? 2 : 0;
                }
                String family = rest.get(0);
                return switch (family) {
                    case "var" -> GenerateVarCommand.run(rest.subList(1, rest.size()), out);
                    case "llamagen" -> GenerateLlamaGenCommand.run(rest.subList(1, rest.size()), out);
                    case "nar" -> GenerateNarCommand.run(rest.subList(1, rest.size()), out);
                    case "flowar" -> GenerateFlowArCommand.run(rest.subList(1, rest.size()), out);
                    default -> throw new UsageException("unknown model family '" + family + "' (available: var, llamagen, nar, flowar)");
                };
            }
            case "fid" -> {
                return FidCommand.run(rest, out);
            }
            case "eval" -> {
                return EvalCommand.run(rest, out);
            }
            case "models" -> {
                return ModelsCommand.run(rest, out);
            }
            case "convert" -> {
                return ConvertCommand.run(rest, out);
            }
            case "bench" -> {
                return bench(rest, out);
            }
            case "devices" -> {
                return Devices.run(rest, out);
            }
            default -> throw new UsageException("unknown command '" + cmd + "' (see 'tessera --help')");
        }
    }

    /**
     * {@code tessera bench} lives in the bench module (with JMH), which is not on the command's class path unless the
     * launcher puts it there for this command.
     */
    private static int bench(List<String> rest, PrintStream out) {
        MethodHandle run;
        try {
            Class<?> c = Class.forName("dev.tessera.examples.cli.BenchCommand");
            run = MethodHandles.publicLookup().findStatic(c, "run", MethodType.methodType(int.class, List.class, PrintStream.class));
        } catch (ReflectiveOperationException e) {
            throw new UsageException("bench is not on the class path (run it with ./tessera bench, which adds examples/bench)");
        }
        try {
            return (int) run.invoke(rest, out);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean debug() {
        String d = System.getenv("TESSERA_DEBUG");
        return d != null && !d.isEmpty() && !d.equals("0");
    }
}
