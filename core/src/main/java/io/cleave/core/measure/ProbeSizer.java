package io.cleave.core.measure;

/**
 * How large an active bandwidth probe should be, and how long to wait before the next one.
 *
 * <p>A probe resolves the rate only if its transfer time is several times the
 * {@linkplain LinkEstimator#resolutionNanos() resolution} (the latency's own spread): a small probe
 * on a fast link measures only latency, and on a bursty slow link it measures the gap between two
 * delivery opportunities. So the size follows the link: the probe should take
 * {@code max(resolutions x resolution, duty x period)} of transfer at the link's rate (the larger
 * of the estimate and the newest bound from below): at least enough to resolve the rate, and where
 * the link is fast, the share of link time probes may take anyway, which makes each sample more
 * precise at no cost in duty. A probe that could
 * not resolve the rate leaves a bound from below, so the next one is larger, as in slow start, until
 * it resolves or reaches {@link #maxBytes}; never more than {@link #GROWTH}x the previous probe, so
 * that a bound taken while the resolution was still underestimated (few round trips seen yet) cannot
 * send a probe that holds a slow link for seconds.
 *
 * <p>Probes share the uplink with real offloads (a payload sent during a probe waits behind it), so
 * their share of link time is bounded: after a probe that took {@code t}, the next waits
 * {@code t / duty}.
 */
public final class ProbeSizer {
    /** Smallest probe: a few packets, so that even the first one spans more than one delivery. */
    public static final int DEFAULT_MIN_BYTES = 4 * 1024;
    /** Largest probe: beyond it a link is reported as "at least" this fast (256 KiB at 1 Gbit/s takes 2 ms). */
    public static final int DEFAULT_MAX_BYTES = 256 * 1024;
    /** Transfer time per probe, in resolutions: a latency error of one resolution then moves a sample by at most half. */
    public static final double DEFAULT_RESOLUTIONS = 2;
    /** Share of link time that probes may take. */
    public static final double DEFAULT_DUTY = 0.1;

    /** Largest step from one probe's size to the next. */
    public static final int GROWTH = 4;

    private final int minBytes;
    private final int maxBytes;
    private final double resolutions;
    private final double duty;
    private final long periodNanos;
    private int lastBytes;

    /** @param periodNanos how often the prober may probe: at most one probe per period */
    public ProbeSizer(int minBytes, int maxBytes, double resolutions, double duty, long periodNanos) {
        if (minBytes <= 0 || maxBytes < minBytes || resolutions <= 0 || duty <= 0 || duty > 1) {
            throw new IllegalArgumentException("bad probe sizing: " + minBytes + ".." + maxBytes + " bytes, " + resolutions
                    + " resolutions, duty " + duty);
        }
        this.minBytes = minBytes;
        this.maxBytes = maxBytes;
        this.resolutions = resolutions;
        this.duty = duty;
        this.periodNanos = periodNanos;
    }

    public static ProbeSizer defaults(long periodNanos) {
        return new ProbeSizer(DEFAULT_MIN_BYTES, DEFAULT_MAX_BYTES, DEFAULT_RESOLUTIONS, DEFAULT_DUTY, periodNanos);
    }

    /** Bytes for the next probe of the link {@code est} describes. */
    public synchronized int nextBytes(LinkEstimator est) {
        double guess = sizingRate(est);
        int bytes = minBytes;
        if (!Double.isNaN(guess) && guess > 0) {
            double b = guess * Math.max(resolutions * est.resolutionNanos(), duty * periodNanos) / 1e9;
            b = Math.min(b, lastBytes == 0 ? minBytes : (double) lastBytes * GROWTH);
            bytes = (int) Math.max(minBytes, Math.min(maxBytes, b));
        }
        lastBytes = bytes;
        return bytes;
    }

    /** The rate probes are sized for: the larger of the estimate and the highest bound from below in the window, NaN if neither is known. */
    public static double sizingRate(LinkEstimator est) {
        double bw = est.bandwidth();
        double lower = est.lowerBound();
        return Double.isNaN(bw) ? lower : Double.isNaN(lower) ? bw : Math.max(bw, lower);
    }

    /**
     * Time to leave the link to other traffic after a probe whose delivery took {@code elapsedNanos};
     * never more than the estimator's window, so that every window gets fresh evidence (a probe that
     * waited out an outage would otherwise silence the prober for ten times the outage).
     */
    public long pauseAfterNanos(long elapsedNanos, LinkEstimator est) {
        return Math.min(est.windowNanos(), (long) (Math.max(0, elapsedNanos) * (1 - duty) / duty));
    }

    public int maxBytes() {
        return maxBytes;
    }
}
