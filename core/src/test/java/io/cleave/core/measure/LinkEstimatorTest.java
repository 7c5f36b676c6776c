package io.cleave.core.measure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.cleave.core.time.ManualClock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LinkEstimatorTest {
    @Test
    void bandwidthStep_isFollowedWithinOneWindow() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        for (int i = 0; i < 50; i++) { // 10 MB/s: 10 kB in 1 ms, every 20 ms
            est.recordTransfer(10_000, 1_000_000);
            clock.advance(20, TimeUnit.MILLISECONDS);
        }
        assertThat(est.bandwidth()).isCloseTo(1e7, within(1.0));
        for (int i = 0; i < 50; i++) { // step down to 1 MB/s
            est.recordTransfer(10_000, 10_000_000);
            clock.advance(20, TimeUnit.MILLISECONDS);
        }
        // 1 s after the step every old sample has left the window
        assertThat(est.bandwidth()).isCloseTo(1e6, within(1.0));
    }

    @Test
    void rareSpikes_doNotInflateTheEstimate() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        for (int i = 0; i < 40; i++) {
            est.recordTransfer(10_000, i % 10 == 0 ? 10_000 : 10_000_000); // every 10th sample 1000x faster
            clock.advance(10, TimeUnit.MILLISECONDS);
        }
        assertThat(est.bandwidth()).isLessThan(1.2e6);
    }

    @Test
    void idleLink_keepsTheLastEstimate_andAsksForAProbe() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        est.recordTransfer(1_000, 1_000_000);
        est.recordRtt(4_000_000);
        clock.advance(5, TimeUnit.SECONDS);
        assertThat(est.idle(TimeUnit.SECONDS.toNanos(1))).isTrue();
        assertThat(est.bandwidth()).isEqualTo(1e6);
        assertThat(est.rtt()).isEqualTo(4e6);
    }

    @Test
    void windowedQuantiles_overWhatIsInTheWindow() {
        ManualClock clock = new ManualClock();
        WindowedSamples s = new WindowedSamples(clock, TimeUnit.SECONDS.toNanos(1), 100);
        for (int i = 1; i <= 10; i++) {
            s.add(i);
        }
        assertThat(s.quantile(0.5)).isEqualTo(5);
        assertThat(s.quantile(0.9)).isEqualTo(9);
        assertThat(s.harmonicMean()).isCloseTo(10 / 2.9289682539682538, within(1e-9));
        clock.advance(2, TimeUnit.SECONDS);
        assertThat(s.count()).isZero();
        assertThat(s.quantile(0.5)).isNaN();
    }

    @Test
    void deliveryTooShortToResolve_isABoundFromBelow_andTheNextProbeIsLarger() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        for (int i = 0; i < 10; i++) {
            est.recordRtt(20_000_000); // 20 ms, no spread: the resolution is the 1 ms floor
        }
        // a 2 KiB probe back 50 us after one round trip: the old 100 us floor made this 2048 B / 100 us
        est.recordDelivery(2048, 20_050_000);
        assertThat(est.samples()).isZero();
        assertThat(est.bandwidth()).isEqualTo(2048 * 1e3); // at least 2048 B per resolution (1 ms), no more claimed
        ProbeSizer sizer = ProbeSizer.defaults(TimeUnit.MILLISECONDS.toNanos(250));
        int first = sizer.nextBytes(est);
        est.recordDelivery(first, 20_100_000);
        assertThat(sizer.nextBytes(est)).isGreaterThan(first);
        // a probe that resolves the rate: 40 kB in 10 ms beyond the round trip
        est.recordDelivery(40_000, 30_000_000);
        assertThat(est.samples()).isEqualTo(1);
        assertThat(est.bandwidth()).isCloseTo(4e6, within(1.0));
    }

    @Test
    void resolution_isTheSpreadOfTheRoundTrips() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        assertThat(est.resolutionNanos()).isEqualTo(LinkEstimator.DEFAULT_RESOLUTION_FLOOR_NANOS);
        for (int i = 1; i <= 10; i++) {
            est.recordRtt(i * 10_000_000L); // 10..100 ms
        }
        assertThat(est.resolutionNanos()).isEqualTo(80_000_000L); // p90 - p10 = 90 - 10 ms
        // a delivery 30 ms beyond the median round trip is within that spread: a bound, not a value
        est.recordDelivery(10_000, 80_000_000);
        assertThat(est.samples()).isZero();
    }

    @Test
    void upperBound_capsTheEstimate_untilANewerResolvedSampleSupersedesIt() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        est.recordTransfer(10_000, 10_000_000); // 1 MB/s
        est.recordUpperBound(1_000, 10_000_000); // an offload got nothing back: at most 100 kB/s
        assertThat(est.bandwidth()).isCloseTo(1e5, within(1.0));
        clock.advance(10, TimeUnit.MILLISECONDS);
        est.recordTransfer(10_000, 10_000_000);
        assertThat(est.bandwidth()).isCloseTo(1e6, within(1.0));
    }

    @Test
    void upperBound_isVoidedByANewerBoundFromBelowAboveIt_butNotByAnOlderOne() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        est.recordLowerBound(100_000, 10_000_000); // a probe: at least 10 MB/s
        clock.advance(50, TimeUnit.MILLISECONDS);
        est.recordUpperBound(784, 20_000_000); // then an offload got nothing back: at most 39 kB/s now
        assertThat(est.bandwidth()).as("the newer bound from above stands: the link may just have slowed down")
                .isCloseTo(784 / 0.02, within(1.0));
        clock.advance(250, TimeUnit.MILLISECONDS);
        est.recordLowerBound(100_000, 10_000_000); // the next probe carries 100 kB in 10 ms: the cap was wrong
        assertThat(est.bandwidth()).isCloseTo(1e7, within(1.0));
    }

    @Test
    void resolvedSamplesFromBeforeTheWindow_giveWayToNewerBoundsFromBelowAboveThem() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        est.recordTransfer(4_000, 500_000_000); // a slow link: 8 kB/s
        clock.advance(1500, TimeUnit.MILLISECONDS); // out of the window, still within its history
        est.recordLowerBound(262_144, 20_000_000); // a 256 KiB probe through in under the resolution: >= 13 MB/s
        assertThat(est.bandwidth()).isCloseTo(262_144 / 0.02, within(1.0));
        // while the slow sample was in the window it stood: bounds from below do not override resolved samples there
        ManualClock clock2 = new ManualClock();
        LinkEstimator est2 = LinkEstimator.defaults(clock2);
        est2.recordTransfer(4_000, 500_000_000);
        clock2.advance(500, TimeUnit.MILLISECONDS);
        est2.recordLowerBound(262_144, 20_000_000);
        assertThat(est2.bandwidth()).isCloseTo(8_000, within(1.0));
    }

    @Test
    void pessimisticEstimate_recoversWithinOneWindow_onceTheLinkIsFast() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        for (int i = 0; i < 10; i++) { // slow offloads: bounds at 10 kB/s, and slow probes
            est.recordTransfer(1_000, 100_000_000);
            est.recordUpperBound(784, 78_400_000);
            clock.advance(100, TimeUnit.MILLISECONDS);
        }
        assertThat(est.bandwidth()).isLessThan(2e4);
        long recovered = -1;
        for (int ms = 0; ms <= 3000; ms += 250) { // probes every 250 ms see 5 MB/s (40 Mbps)
            est.recordTransfer(125_000, 25_000_000);
            if (recovered < 0 && est.bandwidth() > 0.5 * 5e6) {
                recovered = ms;
            }
            clock.advance(250, TimeUnit.MILLISECONDS);
        }
        assertThat(recovered).isBetween(0L, TimeUnit.NANOSECONDS.toMillis(est.windowNanos()));
    }

    @Test
    void notMeasured_untilABandwidthAndARoundTripExist() {
        ManualClock clock = new ManualClock();
        LinkEstimator est = LinkEstimator.defaults(clock);
        assertThat(est.measured()).isFalse();
        est.recordRtt(5_000_000);
        assertThat(est.measured()).isFalse();
        est.recordDelivery(4096, 6_000_000); // 1 ms beyond the round trip: the floor, so resolved
        assertThat(est.measured()).isTrue();
        assertThat(est.ageNanos()).isZero();
    }
}
