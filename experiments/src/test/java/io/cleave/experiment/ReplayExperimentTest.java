package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.cleave.core.plan.PackStats;
import io.cleave.core.testing.TestPacks;
import io.cleave.link.LinkConditions;
import io.cleave.proto.v1.Encoding;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny experiment through a real worker and edge: its summary carries the bound by replay. */
class ReplayExperimentTest {
    private static final int IMAGES = 30;

    @TempDir
    Path dir;

    @Test
    void experiment_replaysEveryCandidatePlan_andReportsTheBoundBesideTheBestOfPolicies() throws Exception {
        Path trace = dir.resolve("flat-20mbps.txt");
        Files.writeString(trace, "0\t20\n1\t20\n");
        Path out = dir.resolve("out");
        Device device = new Device("k2", 2, 1);
        ExperimentConfig cfg = new ExperimentConfig(TestPacks.packDir(), TestPacks.dataDir(), List.of(trace), List.of("cleave", "edge-only"),
                List.of(100.0), IMAGES, 20, List.of(device), 1, out, LinkConditions.CLEAN);
        new ExperimentRunner(cfg, new PrintStream(new ByteArrayOutputStream())).run();

        JsonObject json = new Gson().fromJson(Files.readString(out.resolve("summary.json")), JsonObject.class);
        assertEquals(2, json.getAsJsonArray("replay").size(), "one bound per run");
        JsonObject bound = json.getAsJsonArray("replay").get(0).getAsJsonObject();
        assertEquals("cleave", bound.get("policy").getAsString());
        assertEquals(IMAGES, bound.get("requests").getAsInt());
        assertEquals(Replay.candidates(PackStats.of(TestPacks.pack()), 2).size(), bound.get("plans").getAsInt());
        assertEquals(2, bound.getAsJsonObject("inputs").getAsJsonArray("deviceBlockMs").size());
        // 100 ms on a clean 20 Mbps link: the raw input (784 B) brings the final exit in a few ms, so the bound is at least
        // what the final exit gets right on these images
        ExitTable t = ExitTable.compute(TestPacks.pack(), TestPacks.testSet(), IMAGES, 0, 1);
        int last = TestPacks.pack().exitCount() - 1;
        long right = java.util.stream.IntStream.range(0, IMAGES).filter(i -> t.correct(i, last, true, 0, Encoding.U8_IMAGE)).count();
        assertTrue(bound.get("accuracy").getAsDouble() >= right / (double) IMAGES, bound + " vs " + right);
        assertEquals(1.0, bound.get("hitRate").getAsDouble(), 1e-12);
        assertEquals(2, json.getAsJsonArray("replayGaps").size(), "cleave and edge-only against the bound");

        String md = Files.readString(out.resolve("summary.md"));
        assertTrue(md.contains("## Hindsight bound by replay (every candidate plan)"), md);
        assertTrue(md.contains("## Hindsight bound (best of the policies run)"), md);
        assertTrue(md.contains("### Above the replay bound beyond the noise"), md);
    }
}
