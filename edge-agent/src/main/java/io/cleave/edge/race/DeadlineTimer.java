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

    /** The guard learned from this timer's own lateness, before any per-request cap. */
    default long learnedGuardNanos() {
        return MIN_GUARD_NANOS;
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
     * pauses, a noisy virtual machine), and a deadline answer must absorb it. The guard is one and a
     * half times the worst lateness of the last {@value #MEMORY_SECONDS} seconds plus a margin: a
     * deadline is a promise, and a stall seen once (a collector pause in a burst) comes again. Kept
     * by time, not by count: a burst fires hundreds of deadlines a second, and a count-based memory
     * forgot a 16 ms pause within a fifth of a second, in time for the next one.
     */
    final class Dedicated implements DeadlineTimer {
        static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
        static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);
        static final long MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
        static final int MEMORY_SECONDS = 5;
        private static final long BUCKET_NANOS = TimeUnit.SECONDS.toNanos(1);

        private final NanoClock clock;
        private final ScheduledThreadPoolExecutor ex;
        private final long[] worstInBucket = new long[MEMORY_SECONDS]; // per second of the clock, the worst lateness
        private final long[] bucketSecond = new long[MEMORY_SECONDS];
        private volatile long lastUse;
        private final AtomicBoolean ticking = new AtomicBoolean();

        Dedicated(NanoClock clock) {
            this.clock = clock;
            this.ex = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "cleave-edge-deadlines");
                t.setDaemon(true);
                t.setPriority(Thread.MAX_PRIORITY); // with -XX:ThreadPriorityPolicy=1: nice -5 where allowed (root), else unchanged
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

        synchronized void record(long late) {
            long second = Math.floorDiv(clock.nanoTime(), BUCKET_NANOS);
            int i = (int) Math.floorMod(second, (long) MEMORY_SECONDS);
            if (bucketSecond[i] != second) {
                bucketSecond[i] = second;
                worstInBucket[i] = 0;
            }
            worstInBucket[i] = Math.max(worstInBucket[i], Math.max(0, late));
        }

        @Override
        public synchronized long learnedGuardNanos() {
            long second = Math.floorDiv(clock.nanoTime(), BUCKET_NANOS);
            long worst = 0;
            for (int b = 0; b < MEMORY_SECONDS; b++) {
                if (second - bucketSecond[b] < MEMORY_SECONDS) {
                    worst = Math.max(worst, worstInBucket[b]);
                }
            }
            return Math.max(MIN_GUARD_NANOS, worst + worst / 2 + MARGIN_NANOS);
        }

        @Override
        public long guardNanos(long budgetNanos) {
            return Math.min(learnedGuardNanos(), Math.max(Math.min(MIN_GUARD_NANOS, budgetNanos / 10), budgetNanos / 3));
        }

        @Override
        public void close() {
            ex.shutdownNow();
        }
    }
}
