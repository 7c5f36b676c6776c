package io.cleave.core.error;

import io.cleave.core.time.NanoClock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * Caller mistakes, logged at most once per kind per interval, as one line without a stack trace:
 * a client sending garbage must not be able to flood the log. The first line of an interval says
 * how many of that kind were suppressed since the last one. Kinds are constants of our code
 * (a status code, "bad heartbeat"), never caller-chosen text, so the set of kinds stays small.
 * Stack traces are for our own bugs, logged directly.
 */
public final class RateLimitedLog {
    /** One line per kind per this interval unless told. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    private final Consumer<String> sink;
    private final long intervalNanos;
    private final NanoClock clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        long nextAt;
        boolean started;
        long suppressed;
    }

    /** Lines go to {@code sink} (tests), at most one per kind per {@code interval}. */
    public RateLimitedLog(Consumer<String> sink, Duration interval, NanoClock clock) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, got " + interval);
        }
        this.sink = sink;
        this.intervalNanos = interval.toNanos();
        this.clock = clock;
    }

    /** Warnings on {@code log}, at most one per kind per {@link #DEFAULT_INTERVAL}. */
    public static RateLimitedLog warnings(Logger log) {
        return new RateLimitedLog(log::warn, DEFAULT_INTERVAL, NanoClock.SYSTEM);
    }

    /** Logs "kind: message" unless a line of this kind was logged within the interval; returns whether it logged. */
    public boolean log(String kind, String message) {
        Window w = windows.computeIfAbsent(kind, k -> new Window());
        String line;
        synchronized (w) {
            long now = clock.nanoTime();
            if (w.started && now - w.nextAt < 0) {
                w.suppressed++;
                return false;
            }
            line = kind + ": " + message + (w.suppressed > 0 ? " (" + w.suppressed + " more of this kind suppressed before this one)" : "");
            w.started = true;
            w.nextAt = now + intervalNanos;
            w.suppressed = 0;
        }
        sink.accept(line);
        return true;
    }
}
