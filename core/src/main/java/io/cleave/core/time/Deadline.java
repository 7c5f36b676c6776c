package io.cleave.core.time;

import java.util.concurrent.TimeUnit;

/** An absolute point on a {@link NanoClock}; immutable. */
public final class Deadline implements Comparable<Deadline> {
    private final NanoClock clock;
    private final long atNanos;

    private Deadline(NanoClock clock, long atNanos) {
        this.clock = clock;
        this.atNanos = atNanos;
    }

    public static Deadline after(long amount, TimeUnit unit, NanoClock clock) {
        return new Deadline(clock, clock.nanoTime() + unit.toNanos(amount));
    }

    public static Deadline at(long atNanos, NanoClock clock) {
        return new Deadline(clock, atNanos);
    }

    public long atNanos() {
        return atNanos;
    }

    public long remainingNanos() {
        return atNanos - clock.nanoTime();
    }

    public long remaining(TimeUnit unit) {
        return unit.convert(remainingNanos(), TimeUnit.NANOSECONDS);
    }

    public boolean isExpired() {
        return remainingNanos() <= 0;
    }

    /** The earlier of the two. */
    public Deadline min(Deadline other) {
        return other.atNanos - atNanos < 0 ? other : this;
    }

    @Override
    public int compareTo(Deadline o) {
        return Long.compare(atNanos - o.atNanos, 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Deadline && ((Deadline) o).atNanos == atNanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(atNanos);
    }

    @Override
    public String toString() {
        return "Deadline[" + TimeUnit.NANOSECONDS.toMicros(remainingNanos()) + " us left]";
    }
}
