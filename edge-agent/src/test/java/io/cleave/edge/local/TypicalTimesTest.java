package io.cleave.edge.local;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TypicalTimesTest {

    @Test
    void aStretchedRun_doesNotMoveWhatTheSlowdownScales() {
        LocalPipeline.TypicalTimes t = new LocalPipeline.TypicalTimes(2);
        for (int i = 0; i < 20; i++) {
            t.addAndMedian(0, 100_000 + i); // a segment that takes ~0.1 ms here
        }
        // a run preempted for 5 ms: scaled by its own time it would wait (f - 1) x 5 ms more
        assertThat(t.addAndMedian(0, 5_000_000)).isBetween(100_000L, 100_020L);
        assertThat(t.addAndMedian(1, 7_000)).as("segments are kept apart").isEqualTo(7_000);
    }

    @Test
    void theMedian_followsARealChange_withinHalfTheWindow() {
        LocalPipeline.TypicalTimes t = new LocalPipeline.TypicalTimes(1);
        for (int i = 0; i < 31; i++) {
            t.addAndMedian(0, 100_000);
        }
        long m = 0;
        for (int i = 0; i < 16; i++) {
            m = t.addAndMedian(0, 300_000); // e.g. the pack's larger input: segments now cost 0.3 ms
        }
        assertThat(m).isEqualTo(300_000);
    }
}
