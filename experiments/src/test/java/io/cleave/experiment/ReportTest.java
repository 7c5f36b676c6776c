package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path dir;

    /** Two devices x two deadlines x three policies on one trace; on the phone at 50 ms cloud-only is right
     * in time on 30 more of 300 images than the oracle, elsewhere it is late on every 7th. */
    private static List<RequestRecord> rows() {
        List<RequestRecord> rows = new ArrayList<>();
        for (String device : List.of("phone", "iot")) {
            for (double deadline : List.of(20.0, 50.0)) {
                for (int i = 0; i < 300; i++) {
                    boolean odd = device.equals("phone") && deadline == 50;
                    rows.add(Records.of("trace-a", device, "oracle", deadline, i, 4, i % 5 != 0, true));
                    rows.add(Records.of("trace-a", device, "cleave", deadline, i, 4, i % 5 != 0 && i != 1, i != 2));
                    rows.add(Records.of("trace-a", device, "cloud-only", deadline, i, 8, odd ? i % 5 != 0 || i % 10 == 0 : i % 5 != 0,
                            odd || i % 7 != 0));
                }
            }
        }
        return rows;
    }

    private static List<RunSummary> summaries(List<RequestRecord> rows) {
        Map<String, List<RequestRecord>> runs = new LinkedHashMap<>();
        rows.forEach(r -> runs.computeIfAbsent(r.device() + "|" + r.policy() + "|" + r.deadlineMs(), k -> new ArrayList<>()).add(r));
        return runs.values().stream().map(rs -> RunSummary.of(rs.get(0).trace(), rs.get(0).device(), rs.get(0).policy(), rs.get(0).deadlineMs(), rs))
                .toList();
    }

    @Test
    void report_labelsDevices_reportsIntervals_andFlagsAPolicyAboveTheOracle() throws Exception {
        List<RequestRecord> rows = rows();
        Report.write(dir, rows, summaries(rows), Map.of("devices", List.of("phone: test", "iot: test"), "link", "test link"), Metric.ACCURACY);

        List<String> csv = Files.readAllLines(dir.resolve("requests.csv"));
        assertEquals(rows.size() + 1, csv.size());
        int deviceCol = List.of(csv.get(0).split(",")).indexOf("device");
        assertEquals(List.of("iot", "phone"), csv.stream().skip(1).map(l -> l.split(",")[deviceCol]).distinct().sorted().toList());

        String md = Files.readString(dir.resolve("summary.md"));
        assertTrue(md.contains("| trace-a | iot | cleave | 20 | 300 |"), md);
        assertTrue(md.contains("Wilson"), md);
        assertTrue(md.contains("ratio to oracle"), md);
        assertTrue(md.contains("- cloud-only on trace-a, phone, 50 ms: +10.0 pp"), md);
        assertFalse(md.contains("- cloud-only on trace-a, iot"), "cloud-only is below the oracle on iot: " + md);
        assertTrue(md.contains("best of the policies run"), md);

        JsonObject json = new Gson().fromJson(Files.readString(dir.resolve("summary.json")), JsonObject.class);
        assertEquals("accuracy", json.get("metric").getAsString());
        assertEquals(12, json.getAsJsonArray("runs").size());
        assertEquals(4, json.getAsJsonArray("hindsight").size(), "one bound per trace x device x deadline");
        assertEquals(1, json.getAsJsonArray("beatsOracle").size());
        JsonObject run = json.getAsJsonArray("runs").get(0).getAsJsonObject();
        assertTrue(run.get("accuracyLow").getAsDouble() < run.get("accuracyAtDeadline").getAsDouble());
        assertTrue(run.get("accuracyHigh").getAsDouble() > run.get("accuracyAtDeadline").getAsDouble());

        for (String png : List.of("accuracy-vs-deadline.png", "deadline-miss-rate.png", "planner-timeline.png")) {
            assertTrue(ImageIO.read(dir.resolve(png).toFile()).getHeight() > 0, png);
        }
        // small multiples: a panel per trace x device
        assertEquals(2 * Plots.PANEL_H, ImageIO.read(dir.resolve("deadline-miss-rate.png").toFile()).getHeight());
    }

    @Test
    void untrainedPack_isScoredByExitDepth_andSaysSo() throws Exception {
        List<RequestRecord> rows = rows();
        Report.write(dir, rows, summaries(rows), Map.of("devices", List.of("phone: test"), "link", "test link"), Metric.DEPTH);
        String md = Files.readString(dir.resolve("summary.md"));
        assertTrue(md.contains("exit depth at deadline (block of the answering exit"), md);
        assertTrue(md.contains("untrained"), md);
        assertFalse(md.contains("accuracy at deadline [95% CI]"), md);
        JsonObject json = new Gson().fromJson(Files.readString(dir.resolve("summary.json")), JsonObject.class);
        assertEquals("depth", json.get("metric").getAsString());
        // cloud-only answers from block 8 when in time (6 of 7 requests), the oracle from block 4: deeper beyond the noise
        assertTrue(md.contains("- cloud-only on trace-a, phone, 20 ms: +"), md);
    }

    @Test
    void aRunMissingFromTheGrid_isAGapInThePlots_notAFailure() throws Exception {
        List<RequestRecord> rows = rows().stream().filter(r -> !(r.policy().equals("cloud-only") && r.deadlineMs() == 20)).toList();
        Report.write(dir, rows, summaries(rows), Map.of("devices", List.of("phone: test"), "link", "test link"), Metric.ACCURACY);
        assertEquals(2 * Plots.PANEL_H, ImageIO.read(dir.resolve("deadline-miss-rate.png").toFile()).getHeight());
        assertFalse(Files.readString(dir.resolve("summary.md")).contains("| cloud-only | 20 |"));
    }

    @Test
    void onlyAdmissionRefusalsAreRecordedAsMisses() {
        var refused = new io.cleave.core.error.CleaveException(io.cleave.core.error.ErrorCode.RESOURCE_EXHAUSTED, "edge overloaded");
        assertTrue(ExperimentRunner.refusal(refused));
        assertTrue(ExperimentRunner.refusal(new java.util.concurrent.CompletionException(refused)));
        assertTrue(ExperimentRunner.refusal(new io.cleave.core.error.CleaveException(io.cleave.core.error.ErrorCode.DEADLINE_EXCEEDED,
                "edge overloaded: no exit by the deadline")), "an overloaded edge's miss is recorded, not fatal");
        assertFalse(ExperimentRunner.refusal(new io.cleave.core.error.CleaveException(io.cleave.core.error.ErrorCode.INTERNAL, "bug")));
        assertFalse(ExperimentRunner.refusal(new IllegalStateException("bug")));
    }

    @Test
    void everyPolicyGetsItsOwnColour() {
        List<String> policies = new ArrayList<>(ExperimentRunner.POLICIES);
        policies.addAll(List.of("fixed-0", "fixed-1", "fixed-3"));
        Map<String, Color> c = Plots.colours(policies);
        assertEquals(policies.size(), new HashSet<>(c.values()).size(), c.toString());
        assertEquals(c.get("cleave"), Plots.colours(List.of("edge-only", "cleave")).get("cleave"), "a policy keeps its colour across runs");
    }
}
