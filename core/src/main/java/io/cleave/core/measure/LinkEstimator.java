package io.cleave.core.measure;

import io.cleave.core.time.NanoClock;
import java.util.concurrent.TimeUnit;

/**
 * Uplink bandwidth and round-trip time of one edge→worker link, from passive samples (every
 * payload sent: bytes over the time until the worker had it all) and active probes when idle.
 *
 * <p>Bandwidth is estimated pessimistically: the harmonic mean of the samples in the window
 * (robust to the spikes of cellular traces), or a low quantile, whichever is lower. After a step
 * change the estimate follows within one window, when the old samples have expired.
 */
public final class LinkEstimator {
    private final WindowedSamples bandwidth;
    private final WindowedSamples rtt;
    private final double lowQuantile;
    private volatile double lastBandwidth = Double.NaN;
    private volatile double lastRtt = Double.NaN;

    public LinkEstimator(NanoClock clock, long windowNanos, double lowQuantile) {
        this.bandwidth = new WindowedSamples(clock, windowNanos, 4096);
        this.rtt = new WindowedSamples(clock, 5 * windowNanos, 4096);
        this.lowQuantile = lowQuantile;
    }

    public static LinkEstimator defaults(NanoClock clock) {
        return new LinkEstimator(clock, TimeUnit.SECONDS.toNanos(1), 0.1);
    }

    /** A transfer of {@code bytes} that took {@code nanos} (first byte written to last byte received). */
    public void recordTransfer(long bytes, long nanos) {
        if (bytes > 0 && nanos > 0) {
            double bps = bytes * 1e9 / nanos;
            bandwidth.add(bps);
            lastBandwidth = bps;
        }
    }

    public void recordRtt(long nanos) {
        if (nanos > 0) {
            rtt.add(nanos);
            lastRtt = nanos;
        }
    }

    /** Pessimistic uplink bandwidth in bytes/s; the last known value when the window is empty, NaN if never measured. */
    public double bandwidth() {
        double h = bandwidth.harmonicMean();
        double q = bandwidth.quantile(lowQuantile);
        if (Double.isNaN(h)) {
            return lastBandwidth;
        }
        return Math.min(h, q);
    }

    /** RTT in nanoseconds: the median over five windows (tails are covered by the planner's margin); last known when idle, NaN if never measured. */
    public double rtt() {
        double q = rtt.quantile(0.5);
        return Double.isNaN(q) ? lastRtt : q;
    }

    /** Whether the link has had no sample for a window: time for a light active probe. */
    public boolean idle(long windowNanos) {
        return bandwidth.ageOfNewestNanos() > windowNanos;
    }

    public int samples() {
        return bandwidth.count();
    }
}
