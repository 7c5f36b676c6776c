package io.cleave.it;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Measures the machine's own scheduling stalls, independently of the code under test: a thread at
 * the deadline timer's priority that asks to wake every millisecond and records how late it woke
 * (over 2 ms). On the 2-vCPU test machine such a thread, alone in an otherwise idle JVM, woke up to
 * 26 ms late a few times a minute: a deadline answer cannot be more punctual than the machine.
 */
final class StallProbe implements AutoCloseable {
    record Stall(long fromNanos, long toNanos) {
        long nanos() {
            return toNanos - fromNanos;
        }
    }

    private static final long PERIOD_NANOS = 1_000_000;
    private static final long REPORT_NANOS = 2_000_000;
    private final ConcurrentLinkedQueue<Stall> stalls = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    StallProbe() {
        thread = new Thread(() -> {
            while (!closed) {
                long due = System.nanoTime() + PERIOD_NANOS;
                LockSupport.parkNanos(PERIOD_NANOS);
                long now = System.nanoTime();
                if (now - due > REPORT_NANOS) {
                    stalls.add(new Stall(due, now));
                }
            }
        }, "stall-probe");
        thread.setDaemon(true);
        thread.setPriority(Thread.MAX_PRIORITY);
        thread.start();
    }

    /** The longest stall overlapping [fromNanos, toNanos], or null when none did. */
    Stall worstStallWithin(long fromNanos, long toNanos) {
        return stalls.stream().filter(s -> s.toNanos() >= fromNanos && s.fromNanos() <= toNanos)
                .max(java.util.Comparator.comparingLong(Stall::nanos)).orElse(null);
    }


    int count() {
        return stalls.size();
    }

    @Override
    public void close() {
        closed = true;
    }
}
