package dev.tessera.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.samplers.var.VarEditMask;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * {@code POST /api/edits}: VAR's zero-shot editing of an uploaded picture, as {@code tessera edit var} does it. The
 * body is JSON: {@code image} (the picture's file, PNG, JPEG, BMP or GIF, in base64, or as a {@code data:} URL) at the
 * model's resolution, {@code box} {@code [y0, x0, y1, x1]} (fractions of the picture: in-painting regenerates
 * inside, {@code outpaint: true} outside), {@code class} (index, name or "none"), {@code seed} and VAR's settings.
 */
final class EditRequest {
    static final Set<String> FIELDS =
            Set.of("model", "image", "box", "outpaint", "class", "seed", "cfg", "top_k", "top_p", "more_smooth");

    private EditRequest() {}

    static GenerationRequest parse(JsonNode b, Models models) {
        if (b == null || !b.isObject()) throw new ApiException(400, null, "the body must be a JSON object");
        for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiException.field(
                        f,
                        "unknown field (known: "
                                + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
            }
        }
        ServedModel model = b.has("model") ? models.byName(GenerationRequest.text(b, "model")) : firstVar(models);
        if (!(model.pipeline() instanceof VarPipeline pipe)) {
            throw ApiException.field(
                    "model", "'" + model.name() + "' is a " + model.family() + " model; editing needs a VAR model");
        }
        int side = pipe.vqvae().imageSide();
        BufferedImage picture = picture(b, side);
        double[] box = box(b);
        boolean outpaint = b.has("outpaint") && GenerationRequest.bool(b, "outpaint");
        int cls = label(b, model, pipe);
        long seed = b.has("seed") ? GenerationRequest.integer(b, "seed", Long.MIN_VALUE, Long.MAX_VALUE) : 0;
        List<String> args = new ArrayList<>(List.of("tessera", "edit", "var"));
        args.addAll(model.loadArgs());
        args.addAll(List.of("--image", "input.png", "--box", boxArg(box)));
        if (outpaint) args.add("--outpaint");
        args.addAll(List.of(
                "--class", cls == pipe.nullClass() ? "none" : Integer.toString(cls), "--seed", Long.toString(seed)));
        VarSettings settings = GenerationRequest.var(b, (VarSettings) model.defaults(), args);
        args.addAll(List.of("--out", "edited.png"));
        VarEditMask mask = VarEditMask.box(pipe.vqvae().side(), box[0], box[1], box[2], box[3], !outpaint);
        return new GenerationRequest(
                model,
                new int[] {cls},
                seed,
                settings,
                List.copyOf(args),
                new GenerationRequest.Edit(Images.toTensor(picture), mask));
    }

    private static ServedModel firstVar(Models models) {
        for (ServedModel m : models.all()) if (m.pipeline() instanceof VarPipeline) return m;
        throw ApiException.field("model", "this server has no VAR model to edit with");
    }

    /** The picture, its size checked from its header before it is decoded. */
    private static BufferedImage picture(JsonNode b, int side) {
        if (!b.has("image")) throw ApiException.field("image", "missing (the picture's file in base64)");
        String text = GenerationRequest.text(b, "image");
        if (text.startsWith("data:")) {
            int comma = text.indexOf(',');
            if (comma < 0 || !text.substring(0, comma).endsWith(";base64"))
                throw ApiException.field("image", "a data: URL must be base64 (data:image/png;base64,...)");
            text = text.substring(comma + 1);
        }
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.field("image", "not base64: " + e.getMessage());
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext())
                throw ApiException.field("image", "not a picture this server reads (PNG, JPEG, BMP or GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0), h = reader.getHeight(0);
                if (w != side || h != side) {
                    throw ApiException.field(
                            "image", "the picture is " + w + "x" + h + " but this model edits " + side + "x" + side);
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw ApiException.field("image", "cannot read the picture: " + e.getMessage());
        }
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            if (img == null) throw ApiException.field("image", "not a readable picture");
            return img;
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiException a) throw a;
            throw ApiException.field("image", "cannot read the picture: " + e.getMessage());
        }
    }

    private static double[] box(JsonNode b) {
        JsonNode n = b.get("box");
        if (n == null) throw ApiException.field("box", "missing: [y0, x0, y1, x1], fractions of the picture");
        if (!n.isArray() || n.size() != 4) throw ApiException.field("box", "must be four fractions [y0, x0, y1, x1]");
        double[] box = new double[4];
        for (int i = 0; i < 4; i++) {
            JsonNode v = n.get(i);
            if (!v.isNumber() || !(v.asDouble() >= 0 && v.asDouble() <= 1))
                throw ApiException.field("box", "values are fractions in [0, 1], got " + v);
            box[i] = v.asDouble();
        }
        if (!(box[0] < box[2] && box[1] < box[3])) throw ApiException.field("box", "needs y0 < y1 and x0 < x1");
        return box;
    }

    private static String boxArg(double[] box) {
        List<String> parts = new ArrayList<>();
        for (double v : box) parts.add(Double.toString(v));
        return String.join(",", parts);
    }

    /** The class by index or name, or the null class for "none". */
    private static int label(JsonNode b, ServedModel model, VarPipeline pipe) {
        JsonNode c = b.get("class");
        if (c == null) throw ApiException.field("class", "missing (a class index or name, or \"none\")");
        int v = -1;
        if (c.isIntegralNumber() && c.canConvertToInt())
            v = c.asInt() < model.classes().size() ? c.asInt() : -1;
        else if (c.isTextual() && c.asText().strip().toLowerCase(Locale.ROOT).equals("none")) v = pipe.nullClass();
        else if (c.isTextual()) v = model.resolve(c.asText());
        if (v < 0) {
            throw ApiException.field(
                    "class",
                    "unknown class " + c + " for '" + model.name() + "' (0-"
                            + (model.classes().size() - 1) + ", a name from GET /api/models, or \"none\")");
        }
        return v;
    }
}
