package io.cleave.edge.race;

import io.cleave.core.time.NanoClock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

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
     *
     * <p>The timer thread shares no lock with the threads that schedule and cancel: new deadlines
     * reach it through a lock-free queue, cancelling only marks the entry, and its heap and its
     * lateness memory are its own (read without locks). With a {@code ScheduledThreadPoolExecutor}
     * it took the queue's lock on every wake-up, which request threads take on every schedule and
     * cancel; a request thread preempted while holding it (2 cores, a dozen runnable threads) kept
     * the timer, though at a higher priority, from firing: 80-120 wake-ups a run came 3-37 ms late.
     */
    final class Dedicated implements DeadlineTimer {
        static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
        static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(2);
        static final long MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
        static final int MEMORY_SECONDS = 5;
        private static final long BUCKET_NANOS = TimeUnit.SECONDS.toNanos(1);
        private static final long AWAKE = Long.MIN_VALUE;
        private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DeadlineTimer.class);

        private static final class Entry {
            final long at;
            final Runnable task;
            volatile boolean cancelled;

            Entry(long at, Runnable task) {
                this.at = at;
                this.task = task;
            }
        }

        private final NanoClock clock;
        private final java.util.concurrent.ConcurrentLinkedQueue<Entry> incoming = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.PriorityQueue<Entry> due = new java.util.PriorityQueue<>((a, b) -> Long.compare(a.at - b.at, 0)); // timer thread only
        // per second of the clock, the worst lateness; written by one thread at a time (the timer's), read by any
        private final java.util.concurrent.atomic.AtomicLongArray worstInBucket = new java.util.concurrent.atomic.AtomicLongArray(MEMORY_SECONDS);
        private final java.util.concurrent.atomic.AtomicLongArray bucketSecond = new java.util.concurrent.atomic.AtomicLongArray(MEMORY_SECONDS);
        private final Thread thread;
        private volatile long nextWake = AWAKE; // the due time the thread is parked until; AWAKE while it runs
        private volatile long lastUse;
        private volatile boolean closed;

        Dedicated(NanoClock clock) {
            this.clock = clock;
            for (int b = 0; b < MEMORY_SECONDS; b++) {
                bucketSecond.set(b, Long.MIN_VALUE / 2);
            }
            lastUse = clock.nanoTime() - IDLE_NANOS;
            thread = new Thread(this::loop, "cleave-edge-deadlines");
            thread.setDaemon(true);
            thread.setPriority(Thread.MAX_PRIORITY); // with -XX:ThreadPriorityPolicy=1: nice -5 where allowed (root), else unchanged
            thread.start();
        }

        @Override
        public Runnable at(long atNanos, Runnable task) {
            lastUse = clock.nanoTime();
            Entry e = new Entry(atNanos, task);
            if (closed) {
                return () -> {};
            }
            incoming.add(e);
            long sleepingUntil = nextWake;
            if (sleepingUntil != AWAKE && atNanos - sleepingUntil < 0) {
                LockSupport.unpark(thread); // due before what it sleeps for (or it is about to check the queue anyway)
            }
            return () -> e.cancelled = true;
        }

        private void loop() {
            long nextTick = clock.nanoTime() + TICK_NANOS;
            boolean tickArmed = false; // whether the last sleep was (also) for the tick: only then is a late tick lateness
            while (!closed) {
                for (Entry e; (e = incoming.poll()) != null; ) {
                    if (!e.cancelled) {
                        due.add(e);
                    }
                }
                long now = clock.nanoTime();
                while (!due.isEmpty() && (due.peek().cancelled || due.peek().at - now <= 0)) {
                    Entry e = due.poll();
                    if (e.cancelled) {
                        continue;
                    }
                    record(clock.nanoTime() - e.at);
                    try {
                        e.task.run();
                    } catch (RuntimeException | Error t) {
                        log.error("deadline task failed", t);
                    }
                    now = clock.nanoTime();
                }
                boolean ticking = now - lastUse < IDLE_NANOS;
                if (!tickArmed) {
                    nextTick = now + TICK_NANOS;
                } else if (now - nextTick >= 0) {
                    record(now - nextTick);
                    nextTick = now + TICK_NANOS;
                }
                tickArmed = ticking;
                long wake = ticking ? nextTick : now + IDLE_NANOS;
                if (!due.isEmpty() && due.peek().at - wake < 0) {
                    wake = due.peek().at;
                }
                nextWake = wake;
                if (incoming.isEmpty() && !closed) { // after publishing nextWake: a deadline added since is either seen here or unparks
                    LockSupport.parkNanos(this, Math.max(0, wake - clock.nanoTime()));
                }
                nextWake = AWAKE;
            }
        }

        void record(long late) {
            long second = Math.floorDiv(clock.nanoTime(), BUCKET_NANOS);
            int i = (int) Math.floorMod(second, (long) MEMORY_SECONDS);
            if (bucketSecond.get(i) != second) {
                worstInBucket.set(i, 0);
                bucketSecond.set(i, second);
            }
            worstInBucket.accumulateAndGet(i, Math.max(0, late), Math::max);
        }

        @Override
        public long learnedGuardNanos() {
            long second = Math.floorDiv(clock.nanoTime(), BUCKET_NANOS);
            long worst = 0;
            for (int b = 0; b < MEMORY_SECONDS; b++) {
                if (second - bucketSecond.get(b) < MEMORY_SECONDS) {
                    worst = Math.max(worst, worstInBucket.get(b));
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
            closed = true;
            LockSupport.unpark(thread);
        }
    }
}
