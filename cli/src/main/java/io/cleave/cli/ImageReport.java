package io.cleave.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.cleave.core.pack.ModelPack;
import io.cleave.edge.Outcome;
import io.cleave.edge.image.ImageOutcome;
import io.cleave.edge.image.PreparedImage;
import io.cleave.edge.race.Candidate;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** How {@code cleave edge FILE} reports one image's answer: a few lines of text, or one JSON object. */
final class ImageReport {
    private ImageReport() {}

    static String text(Path file, ImageOutcome r, ModelPack pack, int topK) {
        Candidate c = r.outcome().answer().candidate();
        PreparedImage img = r.image();
        StringBuilder s = new StringBuilder(file.toString()).append(':');
        for (Outcome.Ranked t : r.outcome().top(topK, pack.manifest().labels())) {
            s.append(String.format(Locale.ROOT, "  %s %.1f%%", t.label(), 100 * t.probability()));
        }
        String reason = r.outcome().answer().reason();
        s.append(String.format(Locale.ROOT, "%n  exit %d at block %d, %s, %.2f ms (decode and resize %.2f ms), deadline %s%s%n",
                c.exit(), c.block(), c.cloud() ? "cloud" : "local", r.latencyNanos() / 1e6, img.decodeNanos() / 1e6,
                r.outcome().answer().deadlineMet() ? "met" : "missed", reason.equals("late") ? "" : " (" + reason + ")"));
        s.append("  sent: ").append(sent(r.outcome())).append(System.lineSeparator());
        s.append("  input: ").append(img.preprocessing()).append(System.lineSeparator());
        if (img.adapted()) {
            s.append("  note: the pack was trained on ").append(inputName(pack))
                    .append(" images prepared otherwise; take this label with caution").append(System.lineSeparator());
        }
        if (!pack.trained()) {
            s.append("  note: untrained pack (random weights): the labels mean nothing").append(System.lineSeparator());
        }
        return s.toString();
    }

    static String json(Path file, ImageOutcome r, ModelPack pack, int topK) {
        Candidate c = r.outcome().answer().candidate();
        PreparedImage img = r.image();
        List<Outcome.Ranked> top = r.outcome().top(topK, pack.manifest().labels());
        JsonObject o = new JsonObject();
        o.addProperty("file", file.toString());
        o.addProperty("label", pack.manifest().labels().get(c.predictedClass()));
        o.addProperty("class", c.predictedClass());
        o.addProperty("probability", c.probabilities()[c.predictedClass()]);
        JsonArray ranked = new JsonArray();
        for (Outcome.Ranked t : top) {
            JsonObject e = new JsonObject();
            e.addProperty("label", t.label());
            e.addProperty("class", t.index());
            e.addProperty("probability", t.probability());
            ranked.add(e);
        }
        o.add("top", ranked);
        o.addProperty("exit", c.exit());
        o.addProperty("block", c.block());
        o.addProperty("where", c.cloud() ? "cloud" : "local");
        o.addProperty("latency_ms", r.latencyNanos() / 1e6);
        o.addProperty("decode_ms", img.decodeNanos() / 1e6);
        o.addProperty("deadline_met", r.outcome().answer().deadlineMet());
        o.addProperty("reason", r.outcome().answer().reason());
        // what went to the cloud: payload bytes, at which split and how encoded; nothing sent: 0, null and "local"
        boolean offloaded = r.outcome().bytesSent() > 0;
        o.addProperty("bytes_sent", r.outcome().bytesSent());
        o.addProperty("split", offloaded ? r.outcome().plan().split() : null);
        o.addProperty("encoding", offloaded ? r.outcome().plan().encoding().name() : "local");
        JsonObject in = new JsonObject();
        in.addProperty("format", img.format());
        in.addProperty("width", img.width());
        in.addProperty("height", img.height());
        in.addProperty("channels", img.channels());
        in.addProperty("preprocessing", img.preprocessing());
        in.addProperty("adapted", img.adapted());
        o.add("input", in);
        o.addProperty("pack", pack.id());
        o.addProperty("trained", pack.trained());
        return new com.google.gson.GsonBuilder().serializeNulls().create().toJson(o); // "split": null when nothing was sent
    }

    /** "1152 bytes at split 1 (tokens after block 1), FP16", or "nothing (local)". */
    static String sent(Outcome o) {
        if (o.bytesSent() == 0) {
            return "nothing (local)";
        }
        int split = o.plan().split();
        return o.bytesSent() + " bytes at split " + split + (split == 0 ? " (the input)" : " (tokens after block " + split + ")") + ", "
                + o.plan().encoding().name();
    }

    private static String inputName(ModelPack pack) {
        List<Integer> s = pack.manifest().input().shape();
        return s.get(2) + "x" + s.get(1) + (s.get(0) == 1 ? " grayscale" : " RGB");
    }
}
