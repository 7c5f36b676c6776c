package io.cleave.edge.race;

import io.cleave.core.time.NanoClock;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fires each request's deadline answer, early enough for the answer to be on time. In production
 * one thread does nothing else: a deadline never waits behind probes, assignments, compute or
 * the network.
 */
public interface DeadlineTimer extends AutoCloseable {
    /** The least time before its deadline a request is answered with the best result so far. */
    long MIN_GUARD_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Runs {@code task} at {@code atNanos} on the edge's clock; the returned handle cancels it. */
    Runnable at(long atNanos, Runnable task);

    /**
     * How long before a deadline {@code budgetNanos} away to answer: {@link #MIN_GUARD_NANOS}, or
     * more where the timer has been seen to fire late, at most a third of the budget.
     */
    default long guardNanos(long budgetNanos) {
        return Math.min(MIN_GUARD_NANOS, budgetNanos / 10);
    }

    @Override
    default void close() {}

    /** A timer thread of its own (daemon) that learns how late it fires. */
    static DeadlineTimer dedicated(NanoClock clock) {
        return new Dedicated(clock);
    }

    /**
     * A single-thread timer that measures its own lateness (fired time minus due time) on every
     * deadline it fires, and on a 10 ms tick while requests come in, and answers that much earlier:
     * on a loaded device, threads wake up late (a CPU shared with compute and the JIT, collector
     * pauses, a noisy virtual machine), and a deadline answer must absorb it. The guard is a high
     * one and a half times the worst of the last 256 lateness samples (about 2.5 s of ticks) plus a margin: a deadline
     * is a promise, and the rare stall longer than any recent one is the one that breaks it.
     */
    final class Dedicated implements DeadlineTimer {
        static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
        static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);
        static final long MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
        private static final int SAMPLES = 256;

        private final NanoClock clock;
        private final ScheduledThreadPoolExecutor ex;
        private final long[] lateness = new long[SAMPLES];
        private int count;
        private int next;
        private volatile long guard = MIN_GUARD_NANOS;
        private volatile long lastUse;
        private final AtomicBoolean ticking = new AtomicBoolean();

        Dedicated(NanoClock clock) {
            this.clock = clock;
            this.ex = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "cleave-edge-deadlines");
                t.setDaemon(true);
                return t;
            });
            ex.setRemoveOnCancelPolicy(true); // answered requests leave the queue at once, even under heavy load
        }

        @Override
        public Runnable at(long atNanos, Runnable task) {
            lastUse = clock.nanoTime();
            if (ticking.compareAndSet(false, true)) {
                tick(lastUse + TICK_NANOS);
            }
            ScheduledFuture<?> f = ex.schedule(() -> {
                record(clock.nanoTime() - atNanos);
                task.run();
            }, atNanos - clock.nanoTime(), TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        }

        private void tick(long due) {
            try {
                ex.schedule(() -> {
                    long now = clock.nanoTime();
                    record(now - due);
                    if (now - lastUse < IDLE_NANOS) {
                        tick(now + TICK_NANOS);
                    } else {
                        ticking.set(false);
                    }
                }, due - clock.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                ticking.set(false); // closed
            }
        }

        private synchronized void record(long late) {
            lateness[next] = Math.max(0, late);
            next = (next + 1) % SAMPLES;
            count = Math.min(count + 1, SAMPLES);
            long worst = 0;
            for (int i = 0; i < count; i++) {
                worst = Math.max(worst, lateness[i]);
            }
            guard = Math.max(MIN_GUARD_NANOS, worst + worst / 2 + MARGIN_NANOS);
        }

        /** The lateness-derived guard now, before the per-request cap. */
        public long learnedGuardNanos() {
            return guard;
        }

        @Override
        public long guardNanos(long budgetNanos) {
            return Math.min(guard, Math.max(Math.min(MIN_GUARD_NANOS, budgetNanos / 10), budgetNanos / 3));
        }

        @Override
        public void close() {
            ex.shutdownNow();
        }
    }
}
