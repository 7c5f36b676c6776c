package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cleave.core.plan.Plan;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ReplayBoundTest {
    private static final RequestRecord.Cell CELL = new RequestRecord.Cell("trace-a", "d", 50);

    /** A run of 100 requests: the replay finds a right in-time answer for the even ones, an in-time wrong one (block 2) for the rest. */
    private static ReplayBound.Run bound(String policy) {
        TreeMap<Integer, Replay.Best> best = new TreeMap<>();
        for (int i = 0; i < 100; i++) {
            best.put(i, new Replay.Best(i % 2 == 0, i % 2 == 0 ? 8 : 2, true, Plan.edgeOnly(2, 2.0)));
        }
        return ReplayBound.of(CELL, policy, 26, best, Map.of());
    }

    @Test
    void bound_summarisesThePerRequestBests() {
        ReplayBound.Bound b = bound("cleave").bound();
        assertEquals("cleave", b.policy());
        assertEquals(100, b.requests());
        assertEquals(0.5, b.accuracy(), 1e-12);
        assertEquals(Stats.wilson(50, 100).low(), b.accuracyLow(), 1e-12);
        assertEquals(1.0, b.hitRate(), 1e-12);
        assertEquals(5.0, b.meanDepth(), 1e-12);
    }

    @Test
    void aPolicyBelowTheBound_isAGap_onlyOneAboveItBeyondTheNoise_isFlagged() {
        List<RequestRecord> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(Records.of("d", "cleave", i, 4, i % 4 == 0, true)); // right on 25 of the bound's 50
            rows.add(Records.of("d", "oracle", i, 4, i % 2 == 0, true)); // right exactly where the bound is
            rows.add(Records.of("d", "edge-only", i, 2, i % 2 == 0 || i % 5 == 1, true)); // 10 more than the bound
        }
        // each policy against the replay of its own run; edge-only's run was not replayed
        List<Comparisons.Paired> gaps = ReplayBound.gaps(rows, List.of(bound("cleave"), bound("oracle")), Metric.ACCURACY);
        assertEquals(2, gaps.size());
        Comparisons.Paired cleave = gaps.stream().filter(g -> g.policy().equals("cleave")).findFirst().orElseThrow();
        assertEquals(ReplayBound.REFERENCE, cleave.reference());
        assertEquals(-0.25, cleave.difference(), 1e-12);
        assertTrue(cleave.high() < 0);
        Comparisons.Paired oracle = gaps.stream().filter(g -> g.policy().equals("oracle")).findFirst().orElseThrow();
        assertEquals(0, oracle.differing());
        assertFalse(ReplayBound.modellingGap(oracle));
        Comparisons.Paired edge = ReplayBound.gaps(rows, List.of(bound("edge-only")), Metric.ACCURACY).get(0);
        assertEquals(0.1, edge.difference(), 1e-12);
        assertTrue(ReplayBound.modellingGap(edge), edge.toString());
    }

    @Test
    void depth_pairsTheDeepestInTimeExit() {
        List<RequestRecord> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(Records.of("d", "cleave", i, 2, false, true));
        }
        Comparisons.Paired g = ReplayBound.gaps(rows, List.of(bound("cleave")), Metric.DEPTH).get(0);
        assertEquals(-3.0, g.difference(), 1e-12); // 2 against 8 and 2, alternately
    }
}
