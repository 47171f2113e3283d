package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.samplers.ImageNetClasses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.json} (metrics, model, sampler, seeds, timings) and {@code report.html} (the same, plus a grid of
 * samples per class).
 */
final class EvalReport {
    /** At most this many classes and images per class in the HTML grid (evenly spread). */
    static final int GRID_CLASSES = 100, GRID_PER_CLASS = 10;

    private final EvalPlan plan;
    private final Path dir;
    private final int numClasses;
    private final String modelConfig;

    EvalReport(EvalPlan plan, Path dir, int numClasses, String modelConfig) {
        this.plan = plan;
        this.dir = dir;
        this.numClasses = numClasses;
        this.modelConfig = modelConfig;
    }

    /** Writes both files and returns the report. {@code measured} holds the metrics, "notes" and "metrics_s". */
    Map<String, Object> write(Map<String, Object> measured, ReferenceSet ref, Map<String, Object> times) {
        Map<String, Object> metrics = new LinkedHashMap<>(measured);
        Object notes = metrics.remove("notes");
        Object metricSeconds = metrics.remove("metrics_s");

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("metrics", metrics);
        r.put("notes", notes);
        Map<String, Object> gen = plan.generationSettings();
        Map<String, Object> samples = new LinkedHashMap<>();
        samples.put("count", plan.samples());
        samples.put("per_class", plan.perClass());
        samples.put("classes", plan.classCount());
        samples.put("folder", "samples");
        samples.put("format", "PNG, 8-bit RGB, round(255*x)");
        r.put("samples", samples);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("family", plan.family().id());
        model.put("model", gen.get("model"));
        model.put(plan.family().tokenizerOption(), gen.get(plan.family().tokenizerOption()));
        model.put("config", modelConfig);
        model.put("weights", plan.weights().name().toLowerCase(Locale.ROOT));
        model.put("num_classes", numClasses);
        r.put("model", model);
        Map<String, Object> sampler =
                new LinkedHashMap<>(plan.sampling().toMap(plan.family().usesTemperature()));
        sampler.put("seed", plan.seed());
        sampler.put("batch", plan.batch());
        sampler.put("seeding", gen.get("seeding"));
        r.put("sampler", sampler);
        r.put("features", plan.featureSettings());
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("file", plan.source(ref.path()));
        reference.put("contents", ref.kind());
        reference.put("preprocess", ref.preprocess());
        r.put("reference", reference);
        Map<String, Object> timings = new LinkedHashMap<>(times);
        timings.put("metrics_s", metricSeconds);
        r.put("timings", timings);
        r.put("written", Instant.now().toString());

        Json.write(dir.resolve("report.json"), r);
        writeHtml(r);
        return r;
    }

    private void writeHtml(Map<String, Object> r) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) r.get("metrics");
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tessera evaluation: ")
                .append(esc(plan.family().id()))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em}"
                        + "table{border-collapse:collapse}td,th{padding:2px "
                        + "10px;text-align:left}th{background:#eee}"
                        + ".grid img{width:96px;height:96px;margin:1px}.row{margin:4px "
                        + "0}.label{font-size:90%;color:#444}</style></head><body>\n");
        h.append("<h1>")
                .append(esc(plan.family().id().toUpperCase(Locale.ROOT)))
                .append(": ")
                .append(plan.samples())
                .append(" samples, ")
                .append(plan.perClass())
                .append(" per class</h1>\n<h2>Metrics</h2>\n<table>\n");
        row(h, "FID", number(m.get("fid")));
        row(h, "sFID", number(m.get("sfid")));
        row(h, "Inception Score", meanStd(m.get("inception_score")));
        row(h, "Precision", number(m.get("precision")));
        row(h, "Recall", number(m.get("recall")));
        row(h, "KID", meanStd(m.get("kid")));
        h.append("</table>\n");
        if (r.get("notes") instanceof List<?> notes && !notes.isEmpty()) {
            h.append("<ul>");
            for (Object n : notes)
                h.append("<li>").append(esc(String.valueOf(n))).append("</li>");
            h.append("</ul>\n");
        }
        h.append("<h2>Settings</h2>\n<table>\n");
        for (String k : new String[] {"model", "sampler", "features", "reference", "timings"})
            row(h, k, fields(r.get(k)));
        h.append("</table>\n<h2>Samples by class</h2>\n<div class=\"grid\">\n");
        int classes = plan.classCount(),
                shownClasses = Math.min(GRID_CLASSES, classes),
                perClass = Math.min(GRID_PER_CLASS, plan.perClass());
        for (int s = 0; s < shownClasses; s++) {
            int j = (int) ((long) s * classes / shownClasses);
            int first = j * plan.perClass(), cls = plan.classOf(first, numClasses);
            h.append("<div class=\"row\"><div class=\"label\">class ").append(cls);
            if (numClasses == ImageNetClasses.imagenet().size())
                h.append(" ").append(esc(ImageNetClasses.imagenet().name(cls)));
            h.append("</div>");
            for (int i = first; i < first + perClass; i++) {
                String rel = dir.relativize(EvalRun.sampleFile(dir, plan.samples(), i))
                        .toString()
                        .replace('\\', '/');
                h.append("<a href=\"")
                        .append(rel)
                        .append("\"><img loading=\"lazy\" src=\"")
                        .append(rel)
                        .append("\" alt=\"sample ")
                        .append(i)
                        .append("\"></a>");
            }
            h.append("</div>\n");
        }
        h.append("</div>\n</body></html>\n");
        try {
            Files.writeString(dir.resolve("report.html"), h, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TesseraException(dir.resolve("report.html") + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    private static void row(StringBuilder h, String name, String value) {
        h.append("<tr><th>").append(esc(name)).append("</th><td>").append(value).append("</td></tr>\n");
    }

    /** A settings map as "key: value" lines (nested maps inline as JSON). */
    private static String fields(Object v) {
        if (!(v instanceof Map<?, ?> m)) return esc(String.valueOf(v));
        StringBuilder b = new StringBuilder();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            Object x = e.getValue();
            String text = x instanceof Map<?, ?> f && f.containsKey("path")
                    ? String.valueOf(f.get("path"))
                    : x instanceof Double d
                            ? String.format(Locale.ROOT, "%.4g", d)
                            : x instanceof String str ? str : Json.write(x);
            if (b.length() > 0) b.append("<br>");
            b.append("<b>")
                    .append(esc(String.valueOf(e.getKey())))
                    .append("</b>: ")
                    .append(esc(text));
        }
        return b.toString();
    }

    private static String number(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.4f", n.doubleValue()) : "n/a";
    }

    private static String meanStd(Object v) {
        if (!(v instanceof Map<?, ?> m)) return "n/a";
        return String.format(
                Locale.ROOT,
                "%.4f &plusmn; %.4f",
                ((Number) m.get("mean")).doubleValue(),
                ((Number) m.get("std")).doubleValue());
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
