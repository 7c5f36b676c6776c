package io.cleave.edge.race;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DeadlineTimerTest {
    static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void aStallIsRemembered_forSeconds_notForACountOfDeadlines() {
        AtomicLong now = new AtomicLong(1_000_000 * MS);
        DeadlineTimer.Dedicated timer = new DeadlineTimer.Dedicated(now::get);
        try {
            assertThat(timer.learnedGuardNanos()).isEqualTo(DeadlineTimer.MIN_GUARD_NANOS);
            timer.record(16 * MS); // a collector pause in a burst
            assertThat(timer.learnedGuardNanos()).isEqualTo(16 * MS + 8 * MS + MS);
            // a burst fires a thousand punctual deadlines after it: the pause is still the guard
            for (int i = 0; i < 1_000; i++) {
                now.addAndGet(MS);
                timer.record(0);
            }
            assertThat(timer.learnedGuardNanos()).isEqualTo(25 * MS);
            assertThat(timer.guardNanos(100 * MS)).isEqualTo(25 * MS);
            assertThat(timer.guardNanos(30 * MS)).as("at most a third of the budget").isEqualTo(10 * MS);
            now.addAndGet(TimeUnit.SECONDS.toNanos(DeadlineTimer.Dedicated.MEMORY_SECONDS));
            assertThat(timer.learnedGuardNanos()).as("forgotten after its memory").isEqualTo(DeadlineTimer.MIN_GUARD_NANOS);
        } finally {
            timer.close();
        }
    }

    @Test
    void firesAtItsTime_andMeasuresHowLateItFired() throws Exception {
        DeadlineTimer.Dedicated timer = new DeadlineTimer.Dedicated(System::nanoTime);
        try {
            CountDownLatch fired = new CountDownLatch(1);
            long due = System.nanoTime() + 20 * MS;
            AtomicLong firedAt = new AtomicLong();
            timer.at(due, () -> {
                firedAt.set(System.nanoTime());
                fired.countDown();
            });
            assertThat(fired.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(firedAt.get()).isGreaterThanOrEqualTo(due);
            long late = firedAt.get() - due;
            assertThat(timer.learnedGuardNanos()).as("covers the lateness just measured (%d us)", late / 1000)
                    .isGreaterThanOrEqualTo(late); // 1.5x what it recorded + 1 ms, recorded just before the task ran
        } finally {
            timer.close();
        }
    }
}
