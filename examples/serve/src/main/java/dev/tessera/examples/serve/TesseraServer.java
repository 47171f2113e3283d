package dev.tessera.examples.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The HTTP side of {@code tessera serve}, on Javalin (Jetty): the JSON API under {@code /api}, the OpenAI-style
 * {@code /v1/images/generations}, the web page at {@code /} and the API's description at {@code /openapi.json}.
 * Every refusal is a JSON error naming the field at fault; generation runs in the {@link JobQueue}.
 */
final class TesseraServer implements AutoCloseable {
    /** What the server enforces. */
    record Config(
            String host,
            int port,
            String token,
            int workers,
            int maxQueue,
            int maxImages,
            int maxBodyBytes,
            int keepJobs,
            int heartbeatMillis,
            int maxUploadBytes) {}

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    /** The OpenAI form's fields that carry no meaning here and are accepted for compatibility. */
    private static final Set<String> OPENAI_IGNORED = Set.of("user", "quality", "style");

    private final Config config;
    private final Models models;
    private final JobQueue queue;
    private final byte[] page = resource("index.html"), openApi = resource("openapi.json");
    private final GenerationRequest.Limits limits;
    private Javalin app;

    TesseraServer(Config config, Models models) {
        this.config = config;
        this.models = models;
        this.queue = new JobQueue(config.workers(), config.maxQueue(), config.keepJobs());
        this.limits = new GenerationRequest.Limits(config.maxImages());
    }

    /** Starts listening; returns the port (the one asked for, or the one the system chose for 0). */
    int start() {
        app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.http.maxRequestSize = Math.max(config.maxBodyBytes(), config.maxUploadBytes());
            c.http.asyncTimeout = 0;
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.routes.before("/api/*", this::authorize);
            c.routes.before("/v1/*", this::authorize);
            c.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(page));
            c.routes.get(
                    "/openapi.json", ctx -> ctx.contentType("application/json").result(openApi));
            c.routes.get("/api/health", ctx -> json(ctx, 200, health()));
            c.routes.get("/api/models", ctx -> json(ctx, 200, modelsJson()));
            c.routes.post("/api/generations", this::submit);
            c.routes.get("/api/generations/{id}", ctx -> json(ctx, 200, jobJson(job(ctx))));
            c.routes.delete("/api/generations/{id}", this::cancel);
            c.routes.get("/api/generations/{id}/events", this::events);
            c.routes.get("/api/generations/{id}/images/{file}", this::image);
            c.routes.post("/api/generate", this::generateSync);
            c.routes.post("/api/edits", this::edit);
            c.routes.post("/v1/images/generations", this::openAi);
            c.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status, e.field, e.getMessage()));
            c.routes.exception(Exception.class, (e, ctx) -> error(ctx, 500, null, "internal error: " + e));
            c.routes.error(404, ctx -> {
                if (!isJsonError(ctx)) error(ctx, 404, null, "no such resource: " + ctx.method() + " " + ctx.path());
            });
            c.routes.error(405, ctx -> {
                if (!isJsonError(ctx)) error(ctx, 405, null, ctx.method() + " is not allowed on " + ctx.path());
            });
            c.routes.error(413, ctx -> {
                if (!isJsonError(ctx))
                    error(ctx, 413, null, "the body is larger than " + config.maxBodyBytes() + " bytes");
            });
        });
        app.start(config.host(), config.port());
        return app.port();
    }

    @Override
    public void close() {
        queue.close();
        if (app != null) app.stop();
    }

    JobQueue queue() {
        return queue;
    }

    // ---------------------------------------------------------------- handlers

    private void authorize(Context ctx) {
        if (config.token() == null) return;
        String h = ctx.header("Authorization");
        byte[] given = h != null && h.startsWith("Bearer ")
                ? h.substring(7).strip().getBytes(StandardCharsets.UTF_8)
                : new byte[0];
        if (!MessageDigest.isEqual(given, config.token().getBytes(StandardCharsets.UTF_8))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, null, "missing or wrong bearer token (Authorization: Bearer TOKEN)");
        }
    }

    private void submit(Context ctx) {
        GenerationRequest r = GenerationRequest.parse(body(ctx), models, limits);
        Job job = enqueue(ctx, r);
        ctx.header("Location", "/api/generations/" + job.id);
        json(ctx, 202, jobJson(job));
    }

    /** A zero-shot VAR edit of an uploaded picture ({@link EditRequest}), answered like a generation. */
    private void edit(Context ctx) {
        GenerationRequest r = EditRequest.parse(body(ctx, config.maxUploadBytes()), models);
        Job job = enqueue(ctx, r);
        ctx.header("Location", "/api/generations/" + job.id);
        json(ctx, 202, jobJson(job));
    }

    private Job enqueue(Context ctx, GenerationRequest r) {
        Job job = queue.submit(r);
        if (job == null) {
            ctx.header("Retry-After", Integer.toString(queue.retryAfterSeconds()));
            throw new ApiException(429, null, "the queue is full (" + config.maxQueue() + " waiting); retry later");
        }
        return job;
    }

    private void cancel(Context ctx) {
        Job job = job(ctx);
        queue.cancel(job);
        json(ctx, 202, jobJson(job));
    }

    /** A PNG: {@code 0.png} ... of a finished job. */
    private void image(Context ctx) {
        Job job = job(ctx);
        String file = ctx.pathParam("file");
        List<byte[]> pngs = job.pngs();
        int n = -1;
        if (file.matches("\\d{1,4}\\.png")) n = Integer.parseInt(file.substring(0, file.length() - 4));
        if (job.state() != Job.State.DONE)
            throw new ApiException(
                    409, null, "generation " + job.id + " is " + job.state().id() + ", not done");
        if (n < 0 || n >= pngs.size())
            throw new ApiException(
                    404, null, "no image " + file + " (this generation has 0.png-" + (pngs.size() - 1) + ".png)");
        ctx.contentType("image/png")
                .header("Cache-Control", "private, max-age=86400")
                .result(pngs.get(n));
    }

    /**
     * The synchronous form: one class, the PNG in the answer. A client that closes its connection before the answer
     * cancels its generation (see {@link ClientWatch}).
     */
    private void generateSync(Context ctx) {
        GenerationRequest r = GenerationRequest.parse(body(ctx), models, limits);
        if (r.classes().length != 1) {
            throw ApiException.field(
                    "classes", "the synchronous form returns one PNG: give one class (or use POST /api/generations)");
        }
        Job job = enqueue(ctx, r);
        ClientWatch watch = ClientWatch.start(ctx, () -> queue.cancel(job));
        ctx.future(() -> job.finished.thenAccept(j -> {
            if (watch.stop()) ctx.header("Connection", "close");
            if (j.state() == Job.State.DONE) {
                ctx.contentType("image/png")
                        .header("X-Tessera-Generation", j.id)
                        .header("X-Tessera-Command", shell(j.request.command()))
                        .result(j.pngs().getFirst());
            } else {
                failedJob(ctx, j);
            }
        }));
    }

    private void failedJob(Context ctx, Job j) {
        if (j.state() == Job.State.CANCELLED) error(ctx, 409, null, "generation " + j.id + " was cancelled");
        else error(ctx, 500, null, "generation failed: " + j.error());
    }

    /** {@code POST /v1/images/generations}: the prompt is a class name, {@code n} images of it. */
    private void openAi(Context ctx) {
        JsonNode b = body(ctx);
        if (!b.isObject()) throw new ApiException(400, null, "the body must be a JSON object");
        ObjectNode req = JSON.createObjectNode();
        String prompt = b.has("prompt") ? GenerationRequest.text(b, "prompt") : null;
        if (prompt == null || prompt.isBlank()) throw ApiException.field("prompt", "missing (a class name or index)");
        int n = b.has("n") ? (int) GenerationRequest.integer(b, "n", 1, config.maxImages()) : 1;
        String format = b.has("response_format") ? GenerationRequest.text(b, "response_format") : "b64_json";
        if (!format.equals("b64_json") && !format.equals("url"))
            throw ApiException.field("response_format", "must be b64_json or url");
        for (var it = b.fields(); it.hasNext(); ) {
            var e = it.next();
            String f = e.getKey();
            if (Set.of("prompt", "n", "response_format", "size").contains(f) || OPENAI_IGNORED.contains(f)) continue;
            if (f.equals("classes")) throw ApiException.field("classes", "not a field of this form: use prompt and n");
            req.set(f, e.getValue());
        }
        ArrayNode classes = req.putArray("classes");
        for (int i = 0; i < n; i++) classes.add(prompt.length() > 200 ? "?" : prompt);
        GenerationRequest r;
        try {
            r = GenerationRequest.parse(req, models, limits);
        } catch (ApiException e) {
            if (!"classes".equals(e.field)) throw e;
            throw ApiException.field("prompt", e.getMessage().replaceFirst("^classes: ", ""));
        }
        if (b.has("size")) {
            String side = r.model().imageSide() + "x" + r.model().imageSide();
            if (!GenerationRequest.text(b, "size").equals(side))
                throw ApiException.field("size", "'" + r.model().name() + "' draws " + side + " images only");
        }
        Job job = enqueue(ctx, r);
        String base = ctx.scheme() + "://" + ctx.host();
        ClientWatch watch = ClientWatch.start(ctx, () -> queue.cancel(job));
        ctx.future(() -> job.finished.thenAccept(j -> {
            if (watch.stop()) ctx.header("Connection", "close");
            if (j.state() != Job.State.DONE) {
                failedJob(ctx, j);
                return;
            }
            ObjectNode out = JSON.createObjectNode();
            out.put("created", System.currentTimeMillis() / 1000);
            ArrayNode data = out.putArray("data");
            for (int i = 0; i < j.pngs().size(); i++) {
                ObjectNode d = data.addObject();
                if (format.equals("url")) d.put("url", base + imagePath(j, i));
                else
                    d.put(
                            "b64_json",
                            Base64.getEncoder().encodeToString(j.pngs().get(i)));
                int c = j.request.classes()[i];
                d.put("revised_prompt", r.className(c) + " (class " + c + ")");
            }
            json(ctx, 200, out);
        }));
    }

    /**
     * Server-sent events of a job, from its start whenever the stream opens: {@code state} ({"id","status"}) on
     * each change of state, {@code progress} ({"stage","done","total"}), and one of {@code done}, {@code failed},
     * {@code cancelled} last, with the job's JSON. With {@code ?cancel_on_close=true} a stream that closes before
     * the job ends cancels it.
     */
    private void events(Context ctx) throws IOException {
        Job job = job(ctx);
        boolean cancelOnClose = "true".equals(ctx.queryParam("cancel_on_close"));
        ctx.status(200)
                .contentType("text/event-stream")
                .header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no");
        OutputStream os = ctx.res().getOutputStream();
        BlockingQueue<Job.Event> heard = new LinkedBlockingQueue<>();
        Consumer<Job.Event> listener = heard::add;
        List<Job.Event> past = job.listen(listener);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        // one sender per stream, so that a slow client never holds up the generation that it follows
        Thread.ofVirtual().name("tessera-events-" + job.id).start(() -> {
            try {
                write(os, ": generation " + job.id + "\nretry: 2000\n\n");
                boolean ended = false;
                for (Job.Event e : past) ended |= send(os, job, e);
                while (!ended) {
                    Job.Event e = heard.poll(config.heartbeatMillis(), TimeUnit.MILLISECONDS);
                    if (e == null) write(os, ": keep-alive\n\n"); // also finds a client that has gone
                    else ended = send(os, job, e);
                }
            } catch (IOException | RuntimeException e) {
                // the client has gone
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                job.unlisten(listener);
                if (cancelOnClose && !job.state().ended()) queue.cancel(job);
                closed.complete(null);
            }
        });
        ctx.future(() -> closed);
    }

    /** Writes one event; true when it was the last (the job ended). */
    private boolean send(OutputStream os, Job job, Job.Event e) throws IOException {
        if (e.state().ended()) {
            write(os, sse(e.state().id(), jobJson(job)));
            return true;
        }
        if (e.stage() != null) {
            ObjectNode p = JSON.createObjectNode();
            p.put("stage", e.stage()).put("done", e.done()).put("total", e.total());
            write(os, sse("progress", p));
        } else {
            ObjectNode st = JSON.createObjectNode();
            st.put("id", job.id).put("status", e.state().id());
            write(os, sse("state", st));
        }
        return false;
    }

    private static void write(OutputStream os, String text) throws IOException {
        os.write(text.getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    // ---------------------------------------------------------------- JSON

    private Job job(Context ctx) {
        String id = ctx.pathParam("id");
        Job job = id.matches("[0-9a-f]{1,64}") ? queue.get(id) : null;
        if (job == null) throw new ApiException(404, null, "no generation " + id + " (finished ones are kept a while)");
        return job;
    }

    private JsonNode body(Context ctx) {
        return body(ctx, config.maxBodyBytes());
    }

    /** The most bytes of an oversized body read and dropped before the 413 goes out. */
    private static final long DRAIN_LIMIT = 8L << 20;

    private static void discard(Context ctx, long n) {
        try (InputStream in = ctx.req().getInputStream()) {
            in.skipNBytes(n);
        } catch (IOException e) {
            // the client went away or sent less than it declared: the 413 is all that is left to say
        }
    }

    /** The request's JSON body, at most {@code limit} bytes. */
    private JsonNode body(Context ctx, int limit) {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json"))
            throw new ApiException(415, null, "send the body as application/json");
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) {
            // read what the client is still sending (up to a bound) before answering: a connection closed while
            // the client writes reaches it as a reset instead of the 413
            discard(ctx, Math.min(declared, DRAIN_LIMIT));
            throw new ApiException(413, null, "the body is larger than " + limit + " bytes");
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            bytes = in.readNBytes(limit + 1);
        } catch (IOException e) {
            throw new ApiException(400, null, "cannot read the body: " + e.getMessage());
        }
        if (bytes.length > limit) throw new ApiException(413, null, "the body is larger than " + limit + " bytes");
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || n.isMissingNode()) throw new ApiException(400, null, "the body is empty");
            return n;
        } catch (JsonProcessingException e) {
            throw new ApiException(400, null, "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ApiException(400, null, "cannot read the body: " + e.getMessage());
        }
    }

    private ObjectNode health() {
        ObjectNode h = JSON.createObjectNode();
        h.put("status", "ok").put("pending", queue.pending()).put("max_queue", config.maxQueue());
        return h;
    }

    private ObjectNode modelsJson() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("models");
        for (ServedModel m : models.all()) {
            ObjectNode o = list.addObject();
            o.put("name", m.name()).put("family", m.family()).put("image_size", m.imageSide());
            o.put("description", m.pipeline().describe());
            o.set("defaults", settingsJson(m.defaults()));
            if (m.family().equals("llamagen")) o.put("has_draft", ((LlamaGenPipeline) m.pipeline()).hasDraft());
            if (m.family().equals("mar")) o.put("has_draft", ((MarPipeline) m.pipeline()).draft() != null);
            o.put("can_edit", m.pipeline() instanceof VarPipeline);
            ArrayNode cs = o.putArray("classes");
            for (int i = 0; i < m.classes().size(); i++)
                cs.addObject().put("index", i).put("name", m.classes().get(i));
        }
        root.put("max_images", config.maxImages()).put("max_upload_bytes", config.maxUploadBytes());
        return root;
    }

    static ObjectNode settingsJson(SamplingSettings s) {
        ObjectNode o = JSON.createObjectNode();
        if (s instanceof VarSettings v) {
            o.put("cfg", v.cfg()).put("top_k", v.topK()).put("top_p", v.topP()).put("more_smooth", v.moreSmooth());
        } else if (s instanceof LlamaGenSettings l) {
            o.put("cfg", l.cfg())
                    .put("top_k", l.tokens().distribution().topK())
                    .put("top_p", l.tokens().distribution().topP())
                    .put("temperature", l.tokens().distribution().temperature())
                    .put("cfg_interval", l.tokens().cfgInterval())
                    .put("sampler", l.sampler().id())
                    .put("gamma", l.gamma())
                    .put("lantern_k", l.lanternK())
                    .put("lantern_delta", l.lanternDelta())
                    .put("sjd_window", l.sjdWindow())
                    .put("sjd_init", l.sjdInit().name().toLowerCase(Locale.ROOT));
        } else if (s instanceof TokenSettings t) {
            o.put("cfg", t.cfg())
                    .put("top_k", t.distribution().topK())
                    .put("top_p", t.distribution().topP())
                    .put("temperature", t.distribution().temperature())
                    .put("cfg_interval", t.cfgInterval());
        } else if (s instanceof FlowArSettings f) {
            o.put("cfg", f.cfg())
                    .put("guidance", f.guidance())
                    .put("steps", f.steps())
                    .put("sampler", f.solver().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        } else if (s instanceof MarSettings m) {
            o.put("cfg", m.cfg())
                    .put("num_iter", m.numIter())
                    .put("cfg_schedule", m.schedule().name().toLowerCase(Locale.ROOT))
                    .put("temperature", m.temperature())
                    .put("diffusion_steps", m.diffusionSteps())
                    .put("sampler", m.cspd() == null ? "mar" : "cspd");
            if (m.cspd() != null) {
                o.put("gamma", m.cspd().gamma())
                        .put("prefill", m.cspd().prefill())
                        .put("inner_temperature", m.cspd().innerTemperature())
                        .put("cspd_rule", m.cspd().rule().name().toLowerCase(Locale.ROOT));
            }
        }
        return o;
    }

    private ObjectNode jobJson(Job job) {
        GenerationRequest r = job.request;
        ObjectNode o = JSON.createObjectNode();
        o.put("id", job.id)
                .put("status", job.state().id())
                .put("model", r.model().name())
                .put("seed", r.seed());
        ArrayNode cs = o.putArray("classes");
        for (int c : r.classes()) cs.addObject().put("index", c).put("name", r.className(c));
        o.set("settings", settingsJson(r.settings()));
        Job.Event e = job.lastEvent();
        if (e.stage() != null && !job.state().ended()) {
            o.putObject("progress")
                    .put("stage", e.stage())
                    .put("done", e.done())
                    .put("total", e.total());
        }
        ArrayNode images = o.putArray("images");
        for (int i = 0; i < job.pngs().size(); i++) images.add(imagePath(job, i));
        o.put("command", shell(r.command()));
        if (job.error() != null) o.put("error", job.error());
        if (job.state().ended() && job.startedNanos > 0)
            o.put("seconds", Math.round((job.endedNanos - job.startedNanos) * 1e-6) / 1000.0);
        o.put("links", "/api/generations/" + job.id);
        return o;
    }

    private static String imagePath(Job j, int i) {
        return "/api/generations/" + j.id + "/images/" + i + ".png";
    }

    private static String sse(String event, JsonNode data) {
        return "event: " + event + "\ndata: " + data.toString() + "\n\n";
    }

    /** A command line for a POSIX shell: arguments with anything but safe characters in single quotes. */
    static String shell(List<String> args) {
        return args.stream()
                .map(a -> a.matches("[A-Za-z0-9_./:=,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'")
                .collect(Collectors.joining(" "));
    }

    private static void json(Context ctx, int status, JsonNode body) {
        ctx.status(status).contentType("application/json").result(body.toString());
    }

    private static boolean isJsonError(Context ctx) {
        String t = ctx.res().getContentType();
        return t != null && t.startsWith("application/json");
    }

    private static void error(Context ctx, int status, String field, String message) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode e = root.putObject("error");
        e.put("status", status);
        e.put("message", message);
        if (field != null) e.put("field", field).put("param", field);
        e.put("type", status >= 500 ? "server_error" : "invalid_request_error");
        json(ctx, status, root);
    }

    private static byte[] resource(String name) {
        try (InputStream in = TesseraServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
