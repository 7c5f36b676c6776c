package io.cleave.core.measure;

import io.cleave.core.time.NanoClock;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Uplink bandwidth and round-trip time of one edge→worker link, fitted to the planner's own
 * model of a transfer: {@code T(bytes) = rtt + bytes / bandwidth}.
 *
 * <p>Evidence comes in three strengths, and only the first is taken as a value:
 * <ul>
 *   <li><b>resolved</b>: a delivery timed at the sender (first byte handed over to the reply that
 *       the receiver had it all) whose time beyond the round trip, {@code elapsed - rtt}, is at least
 *       the {@linkplain #resolutionNanos() resolution}: the latency's own spread (p90 - p10 of the
 *       round trips), and never less than a floor for timer and scheduling noise. The estimate is
 *       the ratio of the bytes of these samples to their transfer times, summed over the window
 *       (not a mean of per-sample rates: on a bursty link the time per byte is what averages out,
 *       while its inverse is inflated by every burst). Where the window holds less than
 *       {@link #RESOLUTIONS_PER_ESTIMATE} resolutions of transfer time (a slow, jittery link probed
 *       sparingly), the sum reaches back to older resolved samples, at most
 *       {@link #HISTORY_WINDOWS} windows, unless bounds from below in the window show the link has
 *       become faster than those older samples say (then the bounds stand, as below);
 *   <li><b>lower bound</b>: a delivery whose transfer time is below the resolution. It says only
 *       that the link carried those bytes within the noise: {@code bandwidth >= bytes / resolution}.
 *       Such samples size the next probe and lift a stale estimate, but never override a resolved
 *       one (a burst that arrives at once says nothing about the rate);
 *   <li><b>upper bound</b>: bytes that were not delivered within a time (an offload with no result
 *       by its deadline). It caps the estimate until newer evidence supersedes it (a resolved
 *       sample, or a bound from below above it: the link has since carried more than the cap
 *       allows), and ages out with the window, so that a few slow offloads cannot pin the estimate.
 * </ul>
 * Timings taken at the receiver alone (first to last byte) are not accepted: a burst of a link's
 * buffered bytes arrives at once and reads as any rate at all.
 *
 * <p>When the window holds nothing the last estimate stands; {@link #ageNanos()} says how old it is,
 * so that a planner can treat old information as such.
 */
public final class LinkEstimator {
    /** Timer and thread scheduling noise of a JVM on a busy machine: transfers shorter than this are never resolved. */
    public static final long DEFAULT_RESOLUTION_FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * Transfer time, in resolutions, that an estimate needs before it is taken from the window alone.
     * A resolved sample is off by up to one resolution, so {@code n} resolutions of transfer time put
     * the estimate within about {@code 1/sqrt(n)} (here 35%); on a slow, jittery link the estimate
     * reaches back past the window (up to {@link #HISTORY_WINDOWS} windows) to gather that much.
     */
    static final int RESOLUTIONS_PER_ESTIMATE = 8;
    /** How far back, in windows, an estimate may reach for resolved samples. */
    static final int HISTORY_WINDOWS = 5;
    /** RTT samples needed before their spread (p90 - p10) is trusted as the latency's noise. */
    static final int MIN_RTT_SAMPLES_FOR_SPREAD = 5;

    private enum Kind { RESOLVED, LOWER, UPPER }

    private record Sample(long at, Kind kind, long bytes, long nanos) {
        double rate() {
            return bytes * 1e9 / nanos;
        }
    }

    private final NanoClock clock;
    private final long windowNanos;
    private final long floorNanos;
    private final WindowedSamples rtt;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private double lastEstimate = Double.NaN;
    private long lastEvidenceAt;
    private boolean anyEvidence;
    private volatile double lastRtt = Double.NaN;

    public LinkEstimator(NanoClock clock, long windowNanos, long resolutionFloorNanos) {
        this.clock = clock;
        this.windowNanos = windowNanos;
        this.floorNanos = resolutionFloorNanos;
        this.rtt = new WindowedSamples(clock, 5 * windowNanos, 4096);
    }

    /** A one-second window and the default resolution floor. */
    public static LinkEstimator defaults(NanoClock clock) {
        return new LinkEstimator(clock, TimeUnit.SECONDS.toNanos(1), DEFAULT_RESOLUTION_FLOOR_NANOS);
    }

    /**
     * A delivery timed at the sender: {@code bytes} handed to the link, and {@code elapsedNanos}
     * later the reply saying the receiver had them all (so one round trip is included). Before any
     * round trip is known the whole time counts as transfer, which makes it a lower bound.
     */
    public void recordDelivery(long bytes, long elapsedNanos) {
        if (bytes <= 0 || elapsedNanos <= 0) {
            return;
        }
        double r = rtt();
        if (Double.isNaN(r)) {
            add(new Sample(clock.nanoTime(), Kind.LOWER, bytes, elapsedNanos));
            return;
        }
        classify(bytes, (long) (elapsedNanos - r), resolutionNanos());
    }

    /**
     * A transfer already free of latency: {@code bytes} took {@code nanos} beyond the first byte's
     * latency. Resolved if at least the floor, a lower bound otherwise.
     */
    public void recordTransfer(long bytes, long nanos) {
        if (bytes > 0) {
            classify(bytes, nanos, floorNanos);
        }
    }

    /**
     * {@code bytes} were delivered within {@code nanos} (a time that may also hold processing): the link
     * is at least this fast. Sizes probes and lifts a stale estimate; never overrides a resolved sample.
     */
    public void recordLowerBound(long bytes, long nanos) {
        if (bytes > 0 && nanos > 0) {
            add(new Sample(clock.nanoTime(), Kind.LOWER, bytes, nanos));
        }
    }

    /** {@code bytes} were not delivered within {@code nanos} of transfer time: the link is at most this fast now. */
    public void recordUpperBound(long bytes, long nanos) {
        if (bytes > 0 && nanos > 0) {
            add(new Sample(clock.nanoTime(), Kind.UPPER, bytes, nanos));
        }
    }

    private void classify(long bytes, long transferNanos, long resolution) {
        if (transferNanos >= resolution) {
            add(new Sample(clock.nanoTime(), Kind.RESOLVED, bytes, transferNanos));
        } else {
            add(new Sample(clock.nanoTime(), Kind.LOWER, bytes, resolution));
        }
    }

    public void recordRtt(long nanos) {
        if (nanos > 0) {
            rtt.add(nanos);
            lastRtt = nanos;
        }
    }

    private synchronized void add(Sample s) {
        samples.addLast(s);
        while (samples.size() > 4096) {
            samples.removeFirst();
        }
        lastEvidenceAt = s.at();
        anyEvidence = true;
        lastEstimate = estimate();
    }

    /**
     * Uplink bandwidth in bytes/s (see the class comment); the last estimate when the window is
     * empty, NaN if nothing was ever measured.
     */
    public synchronized double bandwidth() {
        double e = estimate();
        return Double.isNaN(e) ? lastEstimate : e;
    }

    /** The estimate from the window (reaching back for resolved samples as needed), NaN if the window holds no evidence. */
    private double estimate() {
        long now = clock.nanoTime();
        while (!samples.isEmpty() && now - samples.peekFirst().at() > HISTORY_WINDOWS * windowNanos) {
            samples.removeFirst();
        }
        if (samples.isEmpty() || now - samples.peekLast().at() > windowNanos) {
            return Double.NaN;
        }
        long bytes = 0;
        long nanos = 0;
        boolean seenResolved = false;
        boolean resolvedInWindow = false;
        double lower = Double.NaN; // the highest bound from below in the window, among those seen so far (newer first)
        double upper = Double.NaN; // bounds from above newer than every resolved sample and not refuted by a newer bound from below
        long enough = RESOLUTIONS_PER_ESTIMATE * resolutionNanos();
        var newestFirst = samples.descendingIterator();
        while (newestFirst.hasNext()) {
            Sample s = newestFirst.next();
            boolean inWindow = now - s.at() <= windowNanos;
            if (s.kind() == Kind.RESOLVED && (inWindow || nanos < enough)) {
                bytes += s.bytes();
                nanos += s.nanos();
                seenResolved = true;
                resolvedInWindow |= inWindow;
            } else if (s.kind() == Kind.LOWER && inWindow) {
                lower = Double.isNaN(lower) ? s.rate() : Math.max(lower, s.rate());
            } else if (s.kind() == Kind.UPPER && inWindow && !seenResolved && !(lower > s.rate())) {
                upper = Double.isNaN(upper) ? s.rate() : Math.min(upper, s.rate());
            }
        }
        double resolved = nanos > 0 ? bytes * 1e9 / nanos : Double.NaN;
        double e;
        if (nanos > 0 && (resolvedInWindow || !(lower > resolved))) {
            e = resolved;
        } else if (nanos > 0) {
            // resolved samples only from before the window, and newer bounds from below above them: the link has sped up
            e = lower;
        } else if (!Double.isNaN(lower)) {
            // only bounds from below in the window: the link is at least this fast, and maybe as fast as it last was
            e = Double.isNaN(lastEstimate) ? lower : Math.max(lower, lastEstimate);
        } else {
            e = lastEstimate;
        }
        if (!Double.isNaN(upper)) {
            e = Double.isNaN(e) ? upper : Math.min(e, upper);
        }
        return e;
    }

    /** The highest bound from below in the window (the link is at least this fast), NaN if none. */
    public synchronized double lowerBound() {
        long now = clock.nanoTime();
        double best = Double.NaN;
        for (Sample s : samples) {
            if (s.kind() == Kind.LOWER && now - s.at() <= windowNanos) {
                best = Double.isNaN(best) ? s.rate() : Math.max(best, s.rate());
            }
        }
        return best;
    }

    /** RTT in nanoseconds: the median over five windows (tails are covered by the planner's margin); last known when idle, NaN if never measured. */
    public double rtt() {
        double q = rtt.quantile(0.5);
        return Double.isNaN(q) ? lastRtt : q;
    }

    /**
     * The round trips' distribution: the midpoints of {@link #RTT_BINS} equally likely bins (the
     * (i + 0.5) / bins quantiles, ascending), over the same five windows as {@link #rtt()}; empty
     * while fewer than {@code MIN_RTT_SAMPLES_FOR_SPREAD} round trips are known.
     */
    public double[] rttQuantiles() {
        if (rtt.count() < MIN_RTT_SAMPLES_FOR_SPREAD) {
            return new double[0];
        }
        return rtt.quantiles(RTT_BIN_MIDPOINTS);
    }

    /** Bins of {@link #rttQuantiles()}: each holds 5% of the round trips. */
    public static final int RTT_BINS = 20;
    private static final double[] RTT_BIN_MIDPOINTS = java.util.stream.IntStream.range(0, RTT_BINS).mapToDouble(i -> (i + 0.5) / RTT_BINS)
            .toArray();

    /**
     * The shortest transfer time that resolves a rate from a sender-side delivery: the spread of the
     * round trips (p90 - p10; a delivery's round trip varies that much by itself), at least the floor;
     * the round trip itself while too few round trips are known for a spread.
     */
    public long resolutionNanos() {
        if (rtt.count() < MIN_RTT_SAMPLES_FOR_SPREAD) {
            // spread unknown: it may be as large as the round trip itself (e.g. after an outage), so a
            // transfer must exceed that to resolve a rate
            double r = rtt();
            return Double.isNaN(r) ? floorNanos : Math.max(floorNanos, (long) r);
        }
        return Math.max(floorNanos, (long) (rtt.quantile(0.9) - rtt.quantile(0.1)));
    }

    /** Whether both the bandwidth (at least a bound from below) and the RTT have been measured. */
    public synchronized boolean measured() {
        return anyEvidence && !Double.isNaN(rtt());
    }

    /** Nanoseconds since the newest bandwidth evidence, or Long.MAX_VALUE if there was none. */
    public synchronized long ageNanos() {
        return anyEvidence ? clock.nanoTime() - lastEvidenceAt : Long.MAX_VALUE;
    }

    /** Whether the link has had no bandwidth evidence for {@code windowNanos}: time for an active probe. */
    public boolean idle(long windowNanos) {
        return ageNanos() > windowNanos;
    }

    public long windowNanos() {
        return windowNanos;
    }

    /** Resolved samples in the window. */
    public synchronized int samples() {
        long now = clock.nanoTime();
        return (int) samples.stream().filter(s -> s.kind() == Kind.RESOLVED && now - s.at() <= windowNanos).count();
    }
}
