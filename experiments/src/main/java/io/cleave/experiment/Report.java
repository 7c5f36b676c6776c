package io.cleave.experiment;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An experiment's output folder: requests.csv, summary.json, summary.md and the PNG plots. */
final class Report {
    private Report() {}

    /** {@code meta}: what was run and how it was emulated (device, link), written into summary.json and summary.md. */
    static void write(Path out, List<RequestRecord> rows, List<RunSummary> runs, Map<String, Object> meta) throws IOException {
        Files.createDirectories(out);
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("requests.csv")))) {
            w.println(RequestRecord.HEADER);
            rows.forEach(r -> w.println(r.csv()));
        }
        Map<String, Object> json = new LinkedHashMap<>(meta);
        json.put("runs", runs);
        Files.writeString(out.resolve("summary.json"), new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(json) + "\n");
        List<Path> plots = Plots.write(out, rows, runs);
        StringBuilder md = new StringBuilder(RunSummary.markdown(runs, String.valueOf(meta.get("device")), String.valueOf(meta.get("link"))));
        md.append("\nPlots: ");
        plots.forEach(p -> md.append('`').append(p.getFileName()).append("` "));
        md.append('\n');
        Files.writeString(out.resolve("summary.md"), md.toString());
    }
}
