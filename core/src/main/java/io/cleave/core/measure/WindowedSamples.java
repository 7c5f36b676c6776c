package io.cleave.core.measure;

import io.cleave.core.time.NanoClock;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Samples kept for a sliding time window on an injected clock; quantiles, arithmetic and harmonic
 * mean over what is in the window. Thread-safe.
 */
public final class WindowedSamples {
    private final NanoClock clock;
    private final long windowNanos;
    private final int maxSamples;
    private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {atNanos, Double.doubleToRawLongBits(value)}
    private double[] sorted; // the window's values sorted, until a sample comes or goes: quantiles are read several times per request

    public WindowedSamples(NanoClock clock, long windowNanos, int maxSamples) {
        this.clock = clock;
        this.windowNanos = windowNanos;
        this.maxSamples = maxSamples;
    }

    public synchronized void add(double value) {
        samples.addLast(new long[] {clock.nanoTime(), Double.doubleToRawLongBits(value)});
        sorted = null;
        while (samples.size() > maxSamples) {
            samples.removeFirst();
        }
    }

    private void expire() {
        long now = clock.nanoTime();
        while (!samples.isEmpty() && now - samples.peekFirst()[0] > windowNanos) {
            samples.removeFirst();
            sorted = null;
        }
    }

    public synchronized int count() {
        expire();
        return samples.size();
    }

    /** The q-quantile (0..1, nearest rank) of the samples in the window, or NaN if none. */
    public double quantile(double q) {
        double[] v = quantiles(new double[] {q});
        return v.length == 0 ? Double.NaN : v[0];
    }

    /** The {@code qs}-quantiles (nearest rank) of the samples in the window, from one sort kept until the window changes; empty if none. */
    public synchronized double[] quantiles(double[] qs) {
        expire();
        if (samples.isEmpty()) {
            return new double[0];
        }
        if (sorted == null) {
            sorted = values();
            Arrays.sort(sorted);
        }
        double[] v = sorted;
        double[] out = new double[qs.length];
        for (int j = 0; j < qs.length; j++) {
            int i = (int) Math.ceil(qs[j] * v.length) - 1;
            out[j] = v[Math.max(0, Math.min(v.length - 1, i))];
        }
        return out;
    }

    /** Arithmetic mean of the samples in the window, or NaN if none. */
    public synchronized double mean() {
        expire();
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        for (long[] s : samples) {
            sum += Double.longBitsToDouble(s[1]);
        }
        return sum / samples.size();
    }

    /** Harmonic mean of the samples in the window (dominated by the low ones), or NaN if none. */
    public synchronized double harmonicMean() {
        expire();
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        double inv = 0;
        for (long[] s : samples) {
            inv += 1.0 / Math.max(1e-12, Double.longBitsToDouble(s[1]));
        }
        return samples.size() / inv;
    }

    /** Nanoseconds since the newest sample, or Long.MAX_VALUE if there is none. */
    public synchronized long ageOfNewestNanos() {
        return samples.isEmpty() ? Long.MAX_VALUE : clock.nanoTime() - samples.peekLast()[0];
    }

    private double[] values() {
        double[] v = new double[samples.size()];
        int i = 0;
        for (long[] s : samples) {
            v[i++] = Double.longBitsToDouble(s[1]);
        }
        return v;
    }
}
