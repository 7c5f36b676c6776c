package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ComparisonsTest {
    @Test
    void pairs_byRequestIndex_notByRowOrder() {
        List<RequestRecord> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(Records.of("d", "cleave", i, 4, i % 2 == 0, true));
            rows.add(Records.of("d", "edge-only", i, 4, i % 2 == 0 && i != 0, true)); // one image worse
        }
        Collections.shuffle(rows, new Random(3));
        List<Comparisons.Paired> p = Comparisons.of(rows, Metric.ACCURACY);
        assertEquals(1, p.size());
        Comparisons.Paired e = p.get(0);
        assertEquals("edge-only", e.policy());
        assertEquals("cleave", e.reference());
        assertEquals(100, e.requests());
        assertEquals(1, e.differing(), "paired by image, the runs differ on request 0 only");
        assertEquals(-0.01, e.difference(), 1e-12);
    }

    @Test
    void flags_aPolicyAboveTheOracleBeyondTheNoise_only() {
        List<RequestRecord> rows = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            rows.add(Records.of("d", "oracle", i, 4, i % 4 != 0, true)); // 75%
            rows.add(Records.of("d", "cloud-only", i, 8, i % 8 != 0, true)); // 87.5%, right wherever the oracle is
            rows.add(Records.of("d", "cleave", i, 4, i % 4 != 0 || i == 4, true)); // one image better than the oracle
            rows.add(Records.of("d", "edge-only", i, 2, i % 2 == 0, true)); // 50%
        }
        List<Comparisons.Paired> p = Comparisons.of(rows, Metric.ACCURACY);
        Comparisons.Paired cloudVsOracle = find(p, "cloud-only", "oracle");
        assertTrue(cloudVsOracle.beatsOracle(), cloudVsOracle.toString());
        assertEquals(0.125, cloudVsOracle.difference(), 1e-12);
        Comparisons.Paired cleaveVsOracle = find(p, "cleave", "oracle");
        assertFalse(cleaveVsOracle.beatsOracle(), "one image of 400 is noise: " + cleaveVsOracle);
        assertTrue(cleaveVsOracle.low() < 0 && cleaveVsOracle.high() > 0);
        assertFalse(find(p, "cloud-only", "cleave").beatsOracle(), "only the oracle reference flags");
        assertEquals("better", SummaryMarkdown.verdict(find(p, "cloud-only", "cleave")));
        assertEquals("worse", SummaryMarkdown.verdict(find(p, "edge-only", "oracle")));
        assertEquals("within noise", SummaryMarkdown.verdict(find(p, "oracle", "cleave")));
    }

    @Test
    void depthMetric_scoresTheAnsweringExitsBlock_zeroWhenLate() {
        List<RequestRecord> rows = List.of(Records.of("d", "cleave", 0, 4, false, true), Records.of("d", "oracle", 0, 8, false, true),
                Records.of("d", "cleave", 1, 8, false, false), Records.of("d", "oracle", 1, 2, false, true));
        Comparisons.Paired c = find(Comparisons.of(rows, Metric.DEPTH), "cleave", "oracle");
        // request 0: 4 - 8; request 1: 0 (late) - 2
        assertEquals((-4 - 2) / 2.0, c.difference(), 1e-12);
        assertEquals(0, find(Comparisons.of(rows, Metric.ACCURACY), "cleave", "oracle").difference());
    }

    private static Comparisons.Paired find(List<Comparisons.Paired> p, String policy, String ref) {
        return p.stream().filter(x -> x.policy().equals(policy) && x.reference().equals(ref)).findFirst().orElseThrow();
    }
}
