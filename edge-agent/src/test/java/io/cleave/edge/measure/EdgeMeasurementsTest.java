package io.cleave.edge.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.testing.TestPacks;
import io.cleave.core.time.ManualClock;
import io.cleave.edge.race.Candidate;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EdgeMeasurementsTest {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    static Candidate cloudResult(long receiveNanos, long queueNanos, long computeNanos) {
        return new Candidate(3, 8, new float[10], 0, 1f, true, 0, new Candidate.ServerTiming(receiveNanos, queueNanos, computeNanos, 1));
    }

    @Test
    void inputThatArrivedInOneBurst_isNoBandwidthSample() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        // the 784-byte input, all in one piece at the worker: the old code read 784 B / 100 us = 62.72 Mbps
        m.recordCloud(784, cloudResult(0, 0, 2 * MS), 2 * MS);
        assertThat(m.link().bandwidth()).isNaN();
        assertThat(m.link().measured()).isFalse();
    }

    @Test
    void offloadTimedAtTheSender_isADeliveryLessTheWorkersTime() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(10 * MS);
        }
        // 12.8 kB sent, first result 30 ms later: 3 ms queued, 2 ms compute, 10 ms round trip, so 15 ms of transfer
        m.recordCloud(12_800, cloudResult(0, 3 * MS, 2 * MS), 2 * MS, 30 * MS);
        assertThat(m.link().bandwidth()).isCloseTo(12_800 / 0.015, within(1.0));
    }

    @Test
    void anOffloadWhosePayloadCrossesInAFractionOfTheRoundTrip_isARoundTripSample() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(16 * MS); // pings, each a call of its own
        }
        m.link().recordDelivery(100_000, 36 * MS); // 5 MB/s: 784 B cross in 0.16 ms, a hundredth of the round trip
        for (int i = 0; i < 20; i++) { // offloads back 15 ms after sending: 1 ms queued, 2 ms compute, so a 12 ms round trip
            m.recordCloud(784, cloudResult(0, 1 * MS, 2 * MS), 2 * MS, 15 * MS);
        }
        assertThat(m.link().rtt()).isEqualTo(12.0 * MS);
        // a payload whose transfer is most of its time says nothing about the round trip by itself
        EdgeMeasurements big = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            big.link().recordRtt(16 * MS);
        }
        big.link().recordDelivery(100_000, 36 * MS);
        for (int i = 0; i < 20; i++) { // 50 kB: 10 ms on the wire at 5 MB/s
            big.recordCloud(50_000, cloudResult(0, 1 * MS, 2 * MS), 2 * MS, 29 * MS);
        }
        assertThat(big.link().rtt()).isEqualTo(16.0 * MS);
    }

    @Test
    void offloadsWithNoResult_capTheEstimateOnlyForAWindow() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(10 * MS);
        }
        m.link().recordDelivery(100_000, 30 * MS); // 5 MB/s
        for (int i = 0; i < 3; i++) { // three slow offloads in a row: nothing back in 40 ms
            clock.advance(50, TimeUnit.MILLISECONDS);
            m.recordNoResult(784, 40 * MS, 2 * MS);
        }
        double capped = m.link().bandwidth();
        assertThat(capped).isLessThan(1e5);
        // the old code recorded these as values; here probes at 5 MB/s lift the estimate at once
        clock.advance(250, TimeUnit.MILLISECONDS);
        m.link().recordDelivery(100_000, 30 * MS);
        assertThat(m.link().bandwidth()).isGreaterThan(2.5e6);
    }

    @Test
    void aMissExplainedByTheWorkersMeasuredLoad_doesNotCapTheLink() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt(10 * MS);
            // the loaded worker: 3 ms queued, 20 ms computing what its profile says takes 2 ms
            m.recordCloud(784, cloudResult(0, 3 * MS, 20 * MS), 2 * MS);
        }
        m.link().recordDelivery(100_000, 30 * MS); // 5 MB/s
        // nothing back in 33 ms: the round trip and the worker's measured time alone take that long; with the bare
        // 2 ms profile it read as 21 ms of transfer, a 37 kB/s link
        m.recordNoResult(784, 33 * MS, 2 * MS);
        assertThat(m.link().bandwidth()).isCloseTo(5e6, within(1.0));
    }

    @Test
    void missesInARow_eachWithinTheNoise_capTheLinkOnceTheyAddUp_untilAResultEndsTheRun() {
        ManualClock clock = new ManualClock();
        EdgeMeasurements m = new EdgeMeasurements(TestPacks.pack(), 2, clock, 0.9);
        for (int i = 0; i < 10; i++) {
            m.link().recordRtt((10 + i) * MS); // 10..19 ms: a spread of several ms
        }
        long rtt = (long) m.link().rtt();
        long res = m.link().resolutionNanos();
        m.link().recordDelivery(100_000, rtt + 40 * MS); // 2.5 MB/s
        double fast = m.link().bandwidth();
        // each miss: half a resolution of transfer beyond 2 ms of compute and the round trip, within the noise alone
        long waited = 2 * MS + rtt + res / 2;
        for (int i = 1; i <= 3; i++) {
            clock.advance(45, TimeUnit.MILLISECONDS);
            m.recordNoResult(784, waited, 2 * MS);
            assertThat(m.link().bandwidth()).as("%d misses", i).isEqualTo(fast);
        }
        // the 4th: 2 resolutions of transfer in all, sqrt(4) resolutions: the run caps the link
        clock.advance(45, TimeUnit.MILLISECONDS);
        m.recordNoResult(784, waited, 2 * MS);
        assertThat(m.link().bandwidth()).isCloseTo(4 * 784 / (4 * (res / 2) / 1e9), within(1.0));
        // a result ends the run; a newer probe lifts the cap; one more miss within the noise then caps nothing
        m.recordCloud(784, cloudResult(0, 0, 2 * MS), 2 * MS);
        clock.advance(45, TimeUnit.MILLISECONDS);
        m.link().recordDelivery(100_000, rtt + 40 * MS);
        assertThat(m.link().bandwidth()).isCloseTo(fast, within(1.0));
        clock.advance(45, TimeUnit.MILLISECONDS);
        m.recordNoResult(784, waited, 2 * MS);
        assertThat(m.link().bandwidth()).isCloseTo(fast, within(1.0));
    }
}
