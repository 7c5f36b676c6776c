package io.cleave.core.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one rule of which exits a plan computes on the device and which in the cloud. */
class ExitPlacementTest {
    // 8 blocks, exits after 2, 4, 6, 8
    static final PackStats PACK = new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.8, 0.86, 0.89, 0.9}, 50, 64, 784);

    static List<Integer> localExits(ExitPlacement p, Plan plan) {
        int to = p.localTo(plan);
        List<Integer> out = new ArrayList<>();
        for (int x = 0; x < PACK.exits(); x++) {
            if (p.local(x, to)) {
                out.add(x);
            }
        }
        return out;
    }

    @Test
    void localExits_followThePlansBlocks_raisedToTheSplitAndTheFirstHeldExit() {
        ExitPlacement p = ExitPlacement.of(PACK, 6);
        assertThat(p.firstHeldBlock()).isEqualTo(2);
        // edge-only to 6: every held exit
        assertThat(localExits(p, Plan.edgeOnly(6, 2.0))).containsExactly(0, 1, 2);
        // local blocks 0 and an input offload: the first held exit still runs (at worst it answers)
        assertThat(p.localTo(new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0))).isEqualTo(2);
        assertThat(localExits(p, new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0))).containsExactly(0);
        // offloading after block 5 computes blocks 1..5 here: exits after 2 and 4 come with them
        assertThat(p.localTo(new Plan(true, 5, Encoding.FP16, 2.0, 3))).isEqualTo(5);
        assertThat(localExits(p, new Plan(true, 5, Encoding.FP16, 2.0, 3))).containsExactly(0, 1);
        // the same plan when it cannot offload (no worker): only its local blocks
        assertThat(p.localTo(new Plan(true, 5, Encoding.FP16, 2.0, 3), false)).isEqualTo(3);
        // never beyond the blocks held
        assertThat(p.localTo(new Plan(true, 7, Encoding.FP16, 2.0, 8))).isEqualTo(6);
        assertThat(p.held(2)).isTrue();
        assertThat(p.held(3)).isFalse();
        assertThat(p.local(3, 8)).isFalse();
    }

    @Test
    void aDeviceHoldingNoExit_hasNoLocalExits() {
        ExitPlacement p = ExitPlacement.of(PACK, 1);
        assertThat(p.firstHeldBlock()).isZero();
        assertThat(p.localTo(new Plan(true, 0, Encoding.U8_IMAGE, 2.0, 0))).isZero();
        assertThat(localExits(p, Plan.edgeOnly(1, 2.0))).isEmpty();
    }

    @Test
    void cloudExits_areThoseAfterTheSplit() {
        assertThat(ExitPlacement.inCloud(2, 0)).isTrue();
        assertThat(ExitPlacement.inCloud(2, 2)).isFalse(); // the exit at the split is the edge's
        assertThat(ExitPlacement.inCloud(4, 2)).isTrue();
    }

    @Test
    void modelPackAndPackStats_agree() {
        var pack = TestPacks.pack(); // exits after 1, 2, 3, 4, 6, 8
        for (int kMax = 0; kMax <= pack.blockCount(); kMax++) {
            ExitPlacement a = ExitPlacement.of(pack, kMax);
            ExitPlacement b = ExitPlacement.of(PackStats.of(pack), kMax);
            assertThat(a.firstHeldBlock()).isEqualTo(b.firstHeldBlock());
            for (int e = 0; e < pack.exitCount(); e++) {
                assertThat(a.held(e)).isEqualTo(b.held(e)).isEqualTo(pack.exit(e).afterBlock() <= kMax);
            }
        }
    }

    /**
     * The planner's expected latency counts confident stops only at the plan's own local exits: an
     * offload racing with 2 local blocks never computes exit 1 (after block 4), so it never stops there.
     */
    @Test
    void planner_expectsStopsOnlyAtThePlansLocalExits() {
        PackStats pack = new PackStats(8, new int[] {2, 4, 6, 8}, new double[] {0.8, 0.86, 0.89, 0.9}, 50, 64, 784)
                .withThresholds(1, new double[][] {{0.5, 0.5, 0.9}}); // exit 1: half the requests stop at tau 0.5
        PlanEvaluator ev = new PlanEvaluator(new LatencyModel(pack), 0, 0);
        long ms = 1_000_000;
        double[] eb = {0, ms, ms, ms, ms, ms, ms}; // the device holds 6 blocks
        Costs c = new Costs(ms, eb, new double[] {ms, ms, ms, ms}, ms, new double[9], new double[4], 0, 1e9, ms);
        Decision racing2 = ev.evaluate("t", new Plan(true, 0, Encoding.U8_IMAGE, 0.5, 2), 100 * ms, c);
        Decision racing6 = ev.evaluate("t", new Plan(true, 0, Encoding.U8_IMAGE, 0.5, 6), 100 * ms, c);
        assertThat(racing2.expectedExit()).isEqualTo(3);
        assertThat(racing2.expectedCloud()).isTrue();
        assertThat(ev.expectedNanos(racing2, c)).isEqualTo((double) racing2.predictedNanos());
        assertThat(ev.expectedNanos(racing6, c)).isNotEqualTo((double) racing6.predictedNanos());
    }
}
