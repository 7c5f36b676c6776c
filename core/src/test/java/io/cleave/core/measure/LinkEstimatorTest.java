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
}
