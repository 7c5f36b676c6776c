package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HindsightTest {
    /**
     * Four requests, three policies:
     * request 0: only edge-only right in time; request 1: cloud-only right but late, cleave wrong in
     * time at block 4, edge-only wrong in time at block 2; request 2: everyone late; request 3: all right.
     */
    private static List<RequestRecord> rows() {
        return List.of(
                Records.of("d", "cleave", 0, 4, false, true), Records.of("d", "edge-only", 0, 2, true, true),
                Records.of("d", "cloud-only", 0, 8, false, true),
                Records.of("d", "cleave", 1, 4, false, true), Records.of("d", "edge-only", 1, 2, false, true),
                Records.of("d", "cloud-only", 1, 8, true, false),
                Records.of("d", "cleave", 2, 4, true, false), Records.of("d", "edge-only", 2, 2, true, false),
                Records.of("d", "cloud-only", 2, 8, true, false),
                Records.of("d", "cleave", 3, 4, true, true), Records.of("d", "edge-only", 3, 2, true, true),
                Records.of("d", "cloud-only", 3, 8, true, true));
    }

    @Test
    void bound_takesPerRequestTheBestInTimeAnswerOfAnyPolicy() {
        List<Hindsight.Bound> bounds = Hindsight.of(rows());
        assertEquals(1, bounds.size());
        Hindsight.Bound b = bounds.get(0);
        assertEquals(4, b.requests());
        assertEquals(List.of("cleave", "edge-only", "cloud-only"), b.policies());
        // right in time: requests 0 and 3 (request 1's right answer was late, request 2 had none in time)
        assertEquals(0.5, b.accuracy(), 1e-12);
        assertEquals(Stats.wilson(2, 4).low(), b.accuracyLow(), 1e-12);
        assertEquals(0.75, b.hitRate(), 1e-12);
        // deepest in-time exit: 8, 4, 0 (all late), 8
        assertEquals((8 + 4 + 0 + 8) / 4.0, b.meanDepth(), 1e-12);
    }

    @Test
    void bound_isAboveEveryPolicyOnEveryRequest_andGapsAreMeasuredPaired() {
        List<Comparisons.Paired> gaps = Hindsight.gaps(rows(), Metric.ACCURACY);
        assertEquals(1, gaps.size(), "cleave ran, the oracle did not");
        Comparisons.Paired cleave = gaps.get(0);
        assertEquals("cleave", cleave.policy());
        // cleave right in time on request 3 only, the bound on 0 and 3
        assertEquals(-0.25, cleave.difference(), 1e-12);
        assertEquals(1, cleave.differing());
        Hindsight.Bound b = Hindsight.of(rows()).get(0);
        for (String policy : b.policies()) {
            RunSummary r = RunSummary.of("trace-a", "d", policy, 50, rows().stream().filter(x -> x.policy().equals(policy)).toList());
            assertTrue(r.accuracyAtDeadline() <= b.accuracy(), policy + " " + r + " vs " + b);
            assertTrue(r.meanDepthAtDeadline() <= b.meanDepth(), policy + " " + r + " vs " + b);
        }
    }

    @Test
    void bound_keepsDevicesAndDeadlinesApart_andIgnoresRowOrder() {
        List<RequestRecord> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(Records.of("trace-a", "phone", "cleave", 50, i, 4, i % 2 == 0, true));
            rows.add(Records.of("trace-a", "phone", "oracle", 50, i, 4, i % 5 == 0, true));
            rows.add(Records.of("trace-a", "iot", "cleave", 50, i, 2, false, true));
            rows.add(Records.of("trace-a", "phone", "cleave", 20, i, 2, false, false));
        }
        Collections.shuffle(rows, new Random(7));
        List<Hindsight.Bound> bounds = Hindsight.of(rows);
        assertEquals(3, bounds.size());
        Hindsight.Bound phone50 = bounds.stream().filter(b -> b.device().equals("phone") && b.deadlineMs() == 50).findFirst().orElseThrow();
        // right when i is even or a multiple of 5: 25 + 5 (odd multiples of 5) of 50
        assertEquals(30 / 50.0, phone50.accuracy(), 1e-12);
        Hindsight.Bound iot = bounds.stream().filter(b -> b.device().equals("iot")).findFirst().orElseThrow();
        assertEquals(0, iot.accuracy());
        assertEquals(2, iot.meanDepth(), 1e-12);
        Hindsight.Bound phone20 = bounds.stream().filter(b -> b.deadlineMs() == 20).findFirst().orElseThrow();
        assertEquals(0, phone20.hitRate());
        assertEquals(0, phone20.meanDepth());
    }
}
