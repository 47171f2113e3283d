package dev.tessera.examples.serve;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.cli.CommandBase;
import dev.tessera.examples.cli.LoadOptions;
import dev.tessera.examples.cli.SubcommandProvider;
import dev.tessera.examples.cli.UsageException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tessera serve}: keeps models loaded and answers generation requests over HTTP (JSON API, OpenAI-style
 * endpoint, web page). Registered with the command line through {@link Provider}, so that this module and its
 * HTTP server stay off the command's class path unless the launcher adds them for {@code tessera serve}.
 */
@Command(
        name = "serve",
        sortOptions = false,
        header = "an HTTP JSON API and a web page for generating, models kept loaded",
        description = {
            "Serves the bundled Fashion-MNIST models (fmnist-var, fmnist-llamagen, fmnist-nar) and those given with",
            "--model, by name: a JSON API under /api (models, generations with progress as server-sent events, PNGs,",
            "cancel, a synchronous POST /api/generate, POST /api/edits: VAR's zero-shot editing of an uploaded",
            "picture), POST /v1/images/generations (OpenAI-style: the prompt is a class name), a web page at / (with",
            "an edit tab) and the API's OpenAPI description at /openapi.json. The same request with the same seed",
            "gives the same PNG bytes as 'tessera generate' (or 'tessera edit var').",
            "",
            "--model NAME=FAMILY:PART,PART,... names a model of any family; each part is a file, in the family's",
            "order, or KEY=VALUE:",
            "  NAME=var:MODEL,VAE             NAME=llamagen:GPT,VQ[,DRAFT]   NAME=nar:MODEL,VQ[,heads=N,image-size=PX]",
            "  NAME=flowar:MODEL,VAE[,heads=N]",
            "  NAME=mar:MODEL,VAE[,DRAFT][,heads=N|E/D][,draft-heads=N|E/D]",
            "FlowAR and MAR decode with MAR's KL-16 VAE (kl16.ckpt): the VAE part, also written vae=FILE. Keys:",
            "model, vae, vq, draft (files), heads, draft-heads, image-size. A MAR draft serves \"sampler\": \"cspd\".",
            "",
            "Listens on 127.0.0.1 unless --host says otherwise; any other address needs --token (clients then send",
            "'Authorization: Bearer TOKEN') or --insecure. A full queue answers 429 with Retry-After.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera serve                                  (then open http://127.0.0.1:8080/)",
            "  tessera serve --model d16=var:var_d16.pth,vae_ch160v4096z32.pth --host 0.0.0.0 --token s3cret",
            "  tessera serve --model flowar-s=flowar:FlowAR-S.pth,vae=kl16.ckpt \\",
            "      --model mar-l=mar:mar-large.pth,vae=kl16.ckpt,draft=mar-base.pth"
        })
public final class ServeCommand extends CommandBase {
    @Option(
            names = "--host",
            paramLabel = "ADDR",
            description = "address to listen on (default ${DEFAULT-VALUE}: this machine only)")
    String host = "127.0.0.1";

    @Option(names = "--port", paramLabel = "N", description = "port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port = 8080;

    @Option(
            names = "--model",
            paramLabel = "NAME=SPEC",
            description = "serve another model under NAME (repeatable): var:MODEL,VAE, llamagen:GPT,VQ[,DRAFT], "
                    + "nar:MODEL,VQ, flowar:MODEL,vae=VAE, mar:MODEL,vae=VAE[,draft=DRAFT] (see above)")
    List<String> models = new ArrayList<>();

    @Option(names = "--no-bundled", description = "do not serve the bundled Fashion-MNIST models")
    boolean noBundled;

    @Option(
            names = "--token",
            paramLabel = "T",
            description = "require 'Authorization: Bearer T' on /api and /v1 (TESSERA_TOKEN too)")
    String token;

    @Option(
            names = "--insecure",
            description = "allow an address other than loopback without --token (anyone who reaches it may use it)")
    boolean insecure;

    @Option(
            names = "--workers",
            paramLabel = "N",
            description = "generations at a time (default ${DEFAULT-VALUE}; each uses all cores)")
    int workers = 1;

    @Option(
            names = "--max-queue",
            paramLabel = "N",
            description = "requests waiting beyond those running; more get 429 (default ${DEFAULT-VALUE})")
    int maxQueue = 16;

    @Option(
            names = "--max-images",
            paramLabel = "N",
            description = "images per request at most (default ${DEFAULT-VALUE})")
    int maxImages = 16;

    @Option(
            names = "--max-body",
            paramLabel = "BYTES",
            description = "request bodies larger than this get 413 (default ${DEFAULT-VALUE})")
    int maxBody = 64 * 1024;

    @Option(
            names = "--max-upload",
            paramLabel = "BYTES",
            description = "bodies of POST /api/edits (the picture in base64) larger than this get 413 "
                    + "(default ${DEFAULT-VALUE})")
    int maxUpload = 1 << 20;

    @Option(
            names = "--keep",
            paramLabel = "N",
            description = "finished generations kept for fetching (default ${DEFAULT-VALUE})")
    int keep = 64;

    @Mixin
    LoadOptions load = new LoadOptions();

    /** What {@link #prepare} loaded, closed when the command ends. */
    private Models loaded;

    public ServeCommand(PrintStream out) {
        super(out);
    }

    /** Adds {@code serve} to the {@code tessera} command (META-INF/services). */
    public static final class Provider implements SubcommandProvider {
        @Override
        public String name() {
            return "serve";
        }

        @Override
        public Object command(PrintStream out) {
            return new ServeCommand(out);
        }
    }

    /** Checks the options and loads the models; the caller starts and closes the server. */
    TesseraServer prepare() {
        if (token == null) token = System.getenv("TESSERA_TOKEN");
        if (token != null && token.isBlank()) throw new UsageException("--token must not be empty");
        if (port < 0 || port > 65535) throw new UsageException("--port must be 0-65535, got " + port);
        if (workers < 1 || workers > 64) throw new UsageException("--workers must be 1-64, got " + workers);
        if (maxQueue < 0 || maxQueue > 100_000) throw new UsageException("--max-queue must be 0-100000");
        if (maxImages < 1 || maxImages > 256) throw new UsageException("--max-images must be 1-256");
        if (maxBody < 256 || maxBody > 64 << 20) throw new UsageException("--max-body must be 256 B - 64 MiB");
        if (keep < 1 || keep > 10_000) throw new UsageException("--keep must be 1-10000");
        if (maxUpload < 1024 || maxUpload > 64 << 20) throw new UsageException("--max-upload must be 1 KiB - 64 MiB");
        if (!loopback(host) && token == null && !insecure) {
            throw new UsageException("--host " + host + " is reachable from other machines: give --token T "
                    + "(clients send 'Authorization: Bearer T') or --insecure");
        }
        if (noBundled && models.isEmpty()) throw new UsageException("--no-bundled leaves no model: add --model");
        WeightPanels.Format format = load.start(out);
        Models m = Models.load(models, !noBundled, format, load.ops());
        loaded = m;
        return new TesseraServer(
                new TesseraServer.Config(
                        host, port, token, workers, maxQueue, maxImages, maxBody, keep, 1000, maxUpload),
                m);
    }

    static boolean loopback(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) if (!a.isLoopbackAddress()) return false;
            return true;
        } catch (UnknownHostException e) {
            throw new UsageException("--host " + host + ": unknown address");
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        try (TesseraServer server = prepare()) {
            int p;
            try {
                p = server.start();
            } catch (RuntimeException e) {
                throw new UsageException("cannot listen on " + host + ":" + port + ": " + rootMessage(e));
            }
            String shown = host.contains(":") ? "[" + host + "]" : host;
            out.println("tessera serve: listening on http://" + shown + ":" + p + "/ ("
                    + (token != null ? "bearer token required" : "no token") + "; Ctrl-C stops)");
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        } finally {
            if (loaded != null) loaded.close();
            load.close();
        }
        return 0;
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) e = e.getCause();
        return String.valueOf(e.getMessage());
    }
}
