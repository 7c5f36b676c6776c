package io.cleave.core.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DeadlineTest {
    @Test
    void deadline_expiresExactlyWhenTheClockReachesIt() {
        ManualClock clock = new ManualClock();
        Deadline d = Deadline.after(10, TimeUnit.MILLISECONDS, clock);
        clock.advance(9_999, TimeUnit.MICROSECONDS);
        assertThat(d.isExpired()).isFalse();
        assertThat(d.remaining(TimeUnit.MICROSECONDS)).isEqualTo(1);
        clock.advance(1, TimeUnit.MICROSECONDS);
        assertThat(d.isExpired()).isTrue();
    }

    @Test
    void min_picksTheEarlier() {
        ManualClock clock = new ManualClock();
        Deadline a = Deadline.after(5, TimeUnit.MILLISECONDS, clock);
        Deadline b = Deadline.after(3, TimeUnit.MILLISECONDS, clock);
        assertThat(a.min(b)).isSameAs(b);
        assertThat(b.min(a)).isSameAs(b);
        assertThat(a.compareTo(b)).isPositive();
    }
}
