package io.cleave.experiment;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's output folder: requests.csv, summary.json, summary.md and the PNG plots. The
 * summaries carry 95% intervals, paired comparisons against cleave and the oracle, and two
 * hindsight bounds (the best of the policies run, and the best of every candidate plan by replay);
 * see {@link SummaryMarkdown} for the definitions.
 */
final class Report {
    private Report() {}

    /**
     * {@code meta}: what was run and how it was emulated (devices, link), written into summary.json
     * and summary.md; {@code metric}: what a request scores (accuracy, or exit depth for an untrained pack).
     */
    static void write(Path out, List<RequestRecord> rows, List<RunSummary> runs, Map<String, Object> meta, Metric metric)
            throws IOException {
        write(out, rows, runs, meta, metric, List.of());
    }

    /** {@code replay}: the bound by replay, per run that was replayed (none: the section says why, from {@code meta}'s "notReplayed"). */
    static void write(Path out, List<RequestRecord> rows, List<RunSummary> runs, Map<String, Object> meta, Metric metric,
            List<ReplayBound.Run> replay) throws IOException {
        Files.createDirectories(out);
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("requests.csv")))) {
            w.println(RequestRecord.HEADER);
            rows.forEach(r -> w.println(r.csv()));
        }
        List<Comparisons.Paired> paired = Comparisons.of(rows, metric);
        List<Hindsight.Bound> bounds = Hindsight.of(rows);
        List<Comparisons.Paired> gaps = Hindsight.gaps(rows, metric);
        List<ReplayBound.Bound> replayBounds = replay.stream().map(ReplayBound.Run::bound).toList();
        List<Comparisons.Paired> replayGaps = ReplayBound.gaps(rows, replay, metric);
        Map<String, Object> json = new LinkedHashMap<>(meta);
        json.put("metric", metric.name().toLowerCase(java.util.Locale.ROOT));
        json.put("metricLabel", metric.label());
        json.put("statistics", SummaryMarkdown.STATISTICS);
        json.put("runs", runs);
        json.put("paired", paired);
        json.put("beatsOracle", paired.stream().filter(Comparisons.Paired::beatsOracle).toList());
        json.put("hindsightDefinition", SummaryMarkdown.HINDSIGHT);
        json.put("hindsight", bounds);
        json.put("hindsightGaps", gaps);
        json.put("replayDefinition", SummaryMarkdown.REPLAY);
        json.put("replay", replayBounds);
        json.put("replayGaps", replayGaps);
        json.put("aboveReplay", replayGaps.stream().filter(ReplayBound::modellingGap).toList());
        Files.writeString(out.resolve("summary.json"), new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                .create().toJson(json) + "\n");
        List<Path> plots = Plots.write(out, rows, runs, metric);
        StringBuilder md = new StringBuilder(SummaryMarkdown.of(runs, paired, bounds, gaps, replayBounds, replayGaps, meta, metric));
        md.append("\nPlots: ");
        plots.forEach(p -> md.append('`').append(p.getFileName()).append("` "));
        md.append('\n');
        Files.writeString(out.resolve("summary.md"), md.toString());
    }
}
