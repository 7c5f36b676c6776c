package io.cleave.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StatsTest {
    /** Newcombe (1998), Stat. Med. 17:857, Table I, method 3 (Wilson score, no continuity correction). */
    @Test
    void wilson_matchesNewcombesPublishedIntervals() {
        assertInterval(Stats.wilson(81, 263), 0.2553, 0.3662);
        assertInterval(Stats.wilson(15, 148), 0.0624, 0.1605);
        assertInterval(Stats.wilson(0, 20), 0.0, 0.1611);
        assertInterval(Stats.wilson(1, 29), 0.0061, 0.1718);
        assertInterval(Stats.wilson(29, 29), 0.8830, 1.0);
    }

    @Test
    void wilson_isNotZeroWidthAtTheEdges_andNarrowsWithMoreTrials() {
        Stats.Interval all = Stats.wilson(200, 200);
        assertEquals(1.0, all.estimate());
        assertTrue(all.low() < 1 && all.low() > 0.95, "low " + all.low());
        double w200 = Stats.wilson(180, 200).halfWidth();
        double w2000 = Stats.wilson(1800, 2000).halfWidth();
        // one standard error is ~2 pp at 200 requests (the noise figure), so the 95% half-width is ~4 pp; ~1.3 pp at 2000
        assertEquals(0.042, w200, 0.002);
        assertTrue(w2000 < 0.014 && w2000 > 0.012, "half-width at 2000: " + w2000);
        assertThrows(IllegalArgumentException.class, () -> Stats.wilson(3, 2));
    }

    @Test
    void paired_isTheMeanDifferenceWithTheSampleSdOfDifferences() {
        double[] a = {1, 1, 1, 0};
        double[] b = {0, 1, 1, 0};
        // differences 1, 0, 0, 0: mean 0.25, sample sd sqrt((0.75² + 3·0.25²) / 3) = 0.5, half-width 1.96 · 0.5 / 2
        Stats.Interval d = Stats.paired(a, b);
        assertEquals(0.25, d.estimate(), 1e-12);
        assertEquals(0.25 - Stats.Z95 * 0.5 / 2, d.low(), 1e-12);
        assertEquals(0.25 + Stats.Z95 * 0.5 / 2, d.high(), 1e-12);
        assertEquals(-0.25, Stats.paired(b, a).estimate(), 1e-12);
    }

    @Test
    void paired_onMostlyAgreeingRuns_isFarNarrowerThanEitherRunsOwnInterval() {
        int n = 2000;
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = i % 10 == 0 ? 0 : 1; // 90%
            b[i] = i % 10 == 0 || i % 100 == 1 ? 0 : 1; // 89%: 20 more misses, on images a got right
        }
        Stats.Interval d = Stats.paired(a, b);
        assertEquals(0.01, d.estimate(), 1e-12);
        assertTrue(d.low() > 0, "a 1 pp paired difference on 2000 images is outside the noise: " + d);
        assertTrue(d.halfWidth() < Stats.wilson(1800, n).halfWidth() / 2, d + " vs " + Stats.wilson(1800, n));
    }

    @Test
    void paired_identicalRuns_giveAPointAtZero_andMismatchedLengthsAreRefused() {
        double[] a = {1, 0, 1};
        Stats.Interval d = Stats.paired(a, a.clone());
        assertEquals(0, d.low());
        assertEquals(0, d.high());
        assertThrows(IllegalArgumentException.class, () -> Stats.paired(a, new double[2]));
    }

    @Test
    void requestsFor_reproducesTheSampleSizeThatGaveAnInterval() {
        double[] d = new double[400];
        for (int i = 0; i < d.length; i++) {
            d[i] = i % 7 == 0 ? 1 : i % 11 == 0 ? -1 : 0;
        }
        Stats.Interval seen = Stats.mean(d);
        assertEquals(400, Stats.requestsFor(seen, 400, seen.halfWidth()), 1);
        assertEquals(1600, Stats.requestsFor(seen, 400, seen.halfWidth() / 2), 1);
    }

    private static void assertInterval(Stats.Interval i, double low, double high) {
        assertEquals(low, i.low(), 5e-5, "low of " + i);
        assertEquals(high, i.high(), 5e-5, "high of " + i);
    }
}
