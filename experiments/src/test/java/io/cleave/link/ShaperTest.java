package io.cleave.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Delivery times, computed on a made-up clock. */
class ShaperTest {
    private static final long S = 1_000_000_000L;

    @Test
    void rate_queuesBytesBehindEachOther() {
        Shaper s = Shaper.rate(1000); // 1000 B/s
        assertThat(s.deliver(0, 500)).isEqualTo(S / 2);
        assertThat(s.deliver(0, 500)).isEqualTo(S); // behind the first
        assertThat(s.deliver(3 * S, 100)).isEqualTo(3 * S + S / 10); // idle link: starts now
    }

    @Test
    void outages_pauseTheLinkAndResumeAtItsRate() {
        // up 0.5 s, down 0.5 s, from t=10 s
        Shaper s = Shaper.withOutages(Shaper.rate(1000), 10 * S, S, S / 2);
        assertThat(s.deliver(10 * S, 250)).isEqualTo(10 * S + S / 4); // fits before the outage
        // 1000 bytes need 1 s of up-time: 0.25 s left before the outage, 0.5 s in the next up period, 0.25 s in the one after
        assertThat(s.deliver(10 * S + S / 4, 1000)).isEqualTo(12 * S + S / 4);
        // handed over during an outage: waits for its end
        Shaper fresh = Shaper.withOutages(Shaper.rate(1000), 0, S, S / 2);
        assertThat(fresh.deliver(S / 2 + S / 10, 100)).isEqualTo(S + S / 10);
    }

    @Test
    void outages_longerThanTheirPeriod_areRefused() {
        assertThatThrownBy(() -> Shaper.withOutages(Shaper.rate(1000), 0, S, S)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shorter than its period");
        assertThatThrownBy(() -> new LinkConditions(0, 0, 0, 2, 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("less than its period");
        assertThatThrownBy(() -> new LinkConditions(0, 1.5, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("probability");
    }
}
