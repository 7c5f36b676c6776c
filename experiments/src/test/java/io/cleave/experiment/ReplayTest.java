package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleave.core.plan.Costs;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Plan;
import io.cleave.link.LinkConditions;
import io.cleave.link.Trace;
import io.cleave.proto.v1.Encoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replay on a hand-made pack whose answers are known: 4 blocks, exits after blocks 1, 2 and 4
 * (the final one). The device holds 2 blocks: its exit 0 arrives 7 ms after the request, exit 1
 * after 13 ms. The worker takes 2.4 ms from the raw input to the final exit.
 */
class ReplayTest {
    private static final long MS = 1_000_000;
    private static final int CLASSES = 10;

    @TempDir
    Path dir;

    /** Exits after 1, 2, 4; a validation threshold of 0.9 at exit 0 (the planner also considers it). */
    private static PackStats pack() {
        return new PackStats(4, new int[] {1, 2, 4}, new double[] {0.5, 0.6, 0.9}, 10, 8, 784)
                .withThresholds(0, new double[][] {{0.9, 0.5, 0.9}});
    }

    /**
     * Image 0: every exit right. Image 1: only the final exit right (and it is wrong from tokens after
     * block 1 in INT8). Image 2: only exit 0 right, at confidence 0.95. Image 3: every exit wrong.
     * Labels are all 0; a wrong prediction is class 1.
     */
    private static ExitTable exits() {
        int[][] pred = {{0, 1, 0, 1}, {0, 1, 1, 1}, {0, 0, 1, 1}};
        float[][] conf = {{0.5f, 0.4f, 0.95f, 0.3f}, {0.6f, 0.5f, 0.6f, 0.3f}, {0.9f, 0.9f, 0.9f, 0.9f}};
        int[][] int8AfterBlock1 = {{0, 1, 0, 1}, {0, 1, 1, 1}, {0, 1, 1, 1}};
        return new ExitTable(new int[] {0, 0, 0, 0}, pred, conf, Map.of(1, Map.of(Encoding.INT8, int8AfterBlock1, Encoding.FP16, pred),
                2, Map.of(Encoding.INT8, pred, Encoding.FP16, pred)));
    }

    /** Device: stem 1 ms, blocks 5 ms, exits 1 ms, k_max blocks; worker: stem 0.1 ms, blocks 0.5 ms, exits 0.1 ms. */
    private static Costs times(int kMax) {
        double[] eb = new double[kMax + 1];
        for (int k = 1; k <= kMax; k++) {
            eb[k] = 5 * MS;
        }
        return new Costs(1 * MS, eb, new double[] {MS, MS, MS}, 0.1 * MS, new double[] {0, 0.5 * MS, 0.5 * MS, 0.5 * MS, 0.5 * MS},
                new double[] {0.1 * MS, 0.1 * MS, 0.1 * MS}, 0, 0, 0);
    }

    private static Replay replay(int kMax, Trace up, LinkConditions conditions) {
        return new Replay(pack(), exits(), times(kMax), new Replay.Link(up, null, conditions), CLASSES);
    }

    private static final Trace FAST = Trace.constant("fast", 1e9);
    private static final Trace SLOW = Trace.constant("slow", 1000); // a byte per millisecond

    private static Plan send(int split, Encoding enc, double threshold) {
        return new Plan(true, split, enc, threshold, 2);
    }

    @Test
    void slowLink_onlyTheDevicesExitsAreInTime_andTheDeadlineAnswersTheDeepest() {
        Replay r = replay(2, SLOW, LinkConditions.CLEAN);
        List<Plan> plans = Replay.candidates(pack(), 2);
        // the raw input needs 784 ms on this link: the cloud's right answer for image 1 is never in time
        Replay.Best b1 = r.best(plans, 1, 0, 50 * MS);
        assertFalse(b1.correct());
        assertTrue(b1.inTime());
        assertEquals(2, b1.depth(), "exit 1, after block 2, arrives at 13 ms");
        Replay.Answer a = r.replay(send(0, Encoding.U8_IMAGE, 2.0), 1, 0, 50 * MS);
        assertEquals(1, a.exit());
        assertFalse(a.cloud());
        assertEquals("deadline", a.reason());
        assertEquals(49 * MS, a.atNanos(), "the deadline timer answers 1 ms early");
        // every local exit right: some plan is right in time
        Replay.Best b0 = r.best(plans, 0, 0, 50 * MS);
        assertTrue(b0.correct());
        assertFalse(b0.plan() == null);
    }

    @Test
    void deviceWithoutExits_onASlowLink_hasNothingInTime_onAFastOneTheCloudAnswers() {
        List<Plan> plans = Replay.candidates(pack(), 0);
        Replay.Best slow = replay(0, SLOW, LinkConditions.CLEAN).best(plans, 0, 0, 50 * MS);
        assertFalse(slow.inTime());
        assertEquals(0, slow.depth());
        assertNull(slow.plan());
        Replay.Answer late = replay(0, SLOW, LinkConditions.CLEAN).replay(send(0, Encoding.U8_IMAGE, 2.0), 0, 0, 50 * MS);
        assertEquals("late", late.reason());
        assertFalse(late.inTime());

        Replay.Best fast = replay(0, FAST, LinkConditions.CLEAN).best(plans, 1, 0, 50 * MS);
        assertTrue(fast.correct());
        assertEquals(4, fast.depth());
        assertTrue(fast.plan().offload());
        assertEquals(0, fast.plan().split());
    }

    @Test
    void fastLink_splitZeroBringsTheFinalExitFirst_andItAnswers() {
        Replay r = replay(2, FAST, LinkConditions.CLEAN);
        Replay.Answer a = r.replay(send(0, Encoding.U8_IMAGE, 2.0), 1, 0, 50 * MS);
        assertEquals(2, a.exit());
        assertTrue(a.cloud());
        assertTrue(a.correct());
        assertEquals("final-exit", a.reason());
        // worker: stem 0.1 + 4 blocks x 0.5 + 3 exits x 0.1 = 2.4 ms, the 784 bytes take under a microsecond
        assertTrue(a.atNanos() >= 2_400_000 && a.atNanos() < 2_410_000, "at " + a.atNanos());
        Replay.Answer edge = r.replay(Plan.edgeOnly(2, 2.0), 1, 0, 50 * MS);
        assertEquals(1, edge.exit());
        assertFalse(edge.correct());
        assertEquals("all-done", edge.reason());
        assertEquals(13 * MS, edge.atNanos());

        Replay.Best best = r.best(Replay.candidates(pack(), 2), 1, 0, 50 * MS);
        assertTrue(best.correct());
        assertEquals(4, best.depth());
        assertTrue(best.plan().offload());
    }

    @Test
    void aConfidentLocalExitStopsThePlan_onlyAtOrBelowItsConfidence() {
        // 5 ms each way: the final exit is back at 12.4 ms, after exit 0 (7 ms, confidence 0.95, right on image 2)
        Replay r = replay(2, FAST, new LinkConditions(5, 0, 0, 0, 0));
        Replay.Answer never = r.replay(send(0, Encoding.U8_IMAGE, 2.0), 2, 0, 50 * MS);
        assertEquals("final-exit", never.reason());
        assertEquals(12_400_000, never.atNanos(), 10_000);
        assertFalse(never.correct());
        Replay.Answer confident = r.replay(send(0, Encoding.U8_IMAGE, 0.9), 2, 0, 50 * MS);
        assertEquals("confident", confident.reason());
        assertEquals(0, confident.exit());
        assertEquals(7 * MS, confident.atNanos());
        assertTrue(confident.correct());
        assertFalse(r.replay(send(0, Encoding.U8_IMAGE, 0.99), 2, 0, 50 * MS).correct(), "0.95 does not reach 0.99");
        assertTrue(r.best(Replay.candidates(pack(), 2), 2, 0, 50 * MS).correct());
    }

    @Test
    void aResultInsideTheDeadlineTimersGuard_comesTooLate() {
        Replay r = replay(2, FAST, new LinkConditions(5, 0, 0, 0, 0)); // final exit back at 12.4 ms
        Replay.Answer tight = r.replay(send(0, Encoding.U8_IMAGE, 2.0), 1, 0, 13 * MS); // the timer fires at 12 ms
        // by then: exit 0 on the device (7 ms), and exits 0 and 1 from the worker (10.7 and 11.3 ms)
        assertEquals("deadline", tight.reason());
        assertEquals(1, tight.exit());
        assertTrue(tight.cloud());
        assertTrue(tight.inTime());
        assertFalse(tight.correct());
        Replay.Answer enough = r.replay(send(0, Encoding.U8_IMAGE, 2.0), 1, 0, 14 * MS);
        assertEquals("final-exit", enough.reason());
        assertTrue(enough.correct());
    }

    @Test
    void lossyEncodings_answerWithTheirOwnPredictions() {
        Replay r = replay(2, FAST, LinkConditions.CLEAN);
        // tokens after block 1 leave at 6 ms; the final exit is back at 7.7 ms, after exit 0 (7 ms, wrong on image 1)
        Replay.Answer fp32 = r.replay(send(1, Encoding.FP32, 2.0), 1, 0, 50 * MS);
        assertEquals("final-exit", fp32.reason());
        assertTrue(fp32.correct());
        Replay.Answer int8 = r.replay(send(1, Encoding.INT8, 2.0), 1, 0, 50 * MS);
        assertEquals("final-exit", int8.reason());
        assertFalse(int8.correct());
    }

    @Test
    void theUplinkReplaysTheTraceFromTheRequestsOwnSendOffset() throws Exception {
        // Mahimahi: a 1500-byte opportunity every millisecond from 100 ms to 199 ms, none before
        Path trace = dir.resolve("gap.up");
        Files.write(trace, LongStream.rangeClosed(100, 200).mapToObj(Long::toString).toList());
        Replay r = replay(0, Trace.load(trace), LinkConditions.CLEAN);
        Plan raw = send(0, Encoding.U8_IMAGE, 2.0);
        Replay.Answer early = r.replay(raw, 1, 0, 50 * MS);
        assertFalse(early.inTime(), "sent at 0 ms, the input leaves at 100 ms");
        Replay.Answer inWindow = r.replay(raw, 1, 110 * MS, 50 * MS);
        assertTrue(inWindow.inTime());
        assertTrue(inWindow.correct());
        assertTrue(inWindow.atNanos() < 4 * MS, "at " + inWindow.atNanos());
    }

    @Test
    void anOutageHoldsThePayloadUntilItEnds() {
        // up 0.5 s, then dark 0.5 s, every second from the run's start
        Replay r = replay(0, FAST, new LinkConditions(0, 0, 0, 1, 0.5));
        Plan raw = send(0, Encoding.U8_IMAGE, 2.0);
        assertTrue(r.replay(raw, 1, 100 * MS, 50 * MS).correct());
        Replay.Answer dark = r.replay(raw, 1, 600 * MS, 50 * MS);
        assertFalse(dark.inTime());
        assertTrue(dark.atNanos() >= 400 * MS, "the link is back at 1 s: " + dark.atNanos());
    }

    @Test
    void candidates_coverEverySplitEncodingThresholdAndLocalStop() {
        List<Plan> plans = Replay.candidates(pack(), 2);
        // per threshold (never, 0.9): edge-only and split 0 stopping locally after block 1 or 2, split 1 in 3 encodings x
        // the same 2 stops, split 2 in 3 encodings
        assertEquals(2 * (2 + 2 + 6 + 3), plans.size());
        assertTrue(plans.contains(new Plan(true, 0, Encoding.U8_IMAGE, 0.9, 1)));
        assertTrue(plans.contains(new Plan(true, 2, Encoding.INT8, 2.0, 2)));
        assertEquals(plans.size(), plans.stream().distinct().count());
    }
}
