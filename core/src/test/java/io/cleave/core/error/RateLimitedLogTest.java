package io.cleave.core.error;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.time.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RateLimitedLogTest {
    final ManualClock clock = new ManualClock();
    final List<String> lines = new ArrayList<>();
    final RateLimitedLog log = new RateLimitedLog(lines::add, Duration.ofSeconds(10), clock);

    @Test
    void oneLinePerKindPerInterval_thenTheNextLineCountsWhatWasSuppressed() {
        assertThat(log.log("INVALID_ARGUMENT", "bad frame 1")).isTrue();
        for (int i = 2; i <= 1000; i++) {
            assertThat(log.log("INVALID_ARGUMENT", "bad frame " + i)).isFalse();
        }
        clock.advance(9_999, TimeUnit.MILLISECONDS);
        assertThat(log.log("INVALID_ARGUMENT", "still too soon")).isFalse();
        clock.advance(1, TimeUnit.MILLISECONDS);
        assertThat(log.log("INVALID_ARGUMENT", "bad frame 1001")).isTrue();
        clock.advance(10, TimeUnit.SECONDS);
        assertThat(log.log("INVALID_ARGUMENT", "bad frame 1002")).isTrue();
        assertThat(lines).containsExactly(
                "INVALID_ARGUMENT: bad frame 1",
                "INVALID_ARGUMENT: bad frame 1001 (1000 more of this kind suppressed before this one)",
                "INVALID_ARGUMENT: bad frame 1002");
    }

    @Test
    void kindsAreLimitedApart() {
        assertThat(log.log("INVALID_ARGUMENT", "a")).isTrue();
        assertThat(log.log("RESOURCE_EXHAUSTED", "b")).isTrue();
        assertThat(log.log("INVALID_ARGUMENT", "c")).isFalse();
        assertThat(lines).containsExactly("INVALID_ARGUMENT: a", "RESOURCE_EXHAUSTED: b");
    }

    @Test
    void theFirstLineIsLoggedWhateverTheClockReads() {
        ManualClock negative = new ManualClock();
        negative.advance(-5, TimeUnit.SECONDS);
        RateLimitedLog l = new RateLimitedLog(lines::add, Duration.ofSeconds(10), negative);
        assertThat(l.log("k", "first")).isTrue();
        assertThatThrownBy(() -> new RateLimitedLog(lines::add, Duration.ZERO, clock)).isInstanceOf(IllegalArgumentException.class);
    }
}
