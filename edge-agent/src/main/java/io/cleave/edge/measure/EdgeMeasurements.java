package io.cleave.edge.measure;

import io.cleave.core.measure.LinkEstimator;
import io.cleave.core.measure.WindowedSamples;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.race.Candidate;
import java.util.concurrent.TimeUnit;

/**
 * What the edge measures, kept current from live runs: its own compute per segment (a windowed
 * tail quantile), the worker's compute and queueing (from the timing in each cloud result and the
 * worker's reported profile), and the uplink ({@link LinkEstimator}: active probes, offloads timed
 * at the sender, and offloads that got no result).
 *
 * <p>Segments are numbered by {@link Segments}.
 */
public final class EdgeMeasurements {
    private static final long WINDOW = TimeUnit.SECONDS.toNanos(2);

    private final ModelPack pack;
    private final Segments segments;
    private final int kMax;
    private final WindowedSamples[] edge;
    private final double[] cloudSegment; // worker compute per segment at batch 1 (from Describe), nanos
    private final WindowedSamples queue;
    private final WindowedSamples cloudScale; // measured / profiled cloud compute, to follow load
    private final LinkEstimator link;
    private final double quantile;
    // the offloads with no result since the last cloud result: how many, their bytes and transfer times
    private int unanswered;
    private long unansweredBytes;
    private long unansweredNanos;
    private long lastMissAt;
    private final NanoClock clock;

    public EdgeMeasurements(ModelPack pack, int kMax, NanoClock clock, double quantile) {
        this.pack = pack;
        this.kMax = kMax;
        this.quantile = quantile;
        this.clock = clock;
        this.segments = Segments.of(pack);
        edge = new WindowedSamples[segments.count()];
        for (int i = 0; i < edge.length; i++) {
            edge[i] = new WindowedSamples(clock, TimeUnit.SECONDS.toNanos(30), 512);
        }
        cloudSegment = new double[segments.count()];
        queue = new WindowedSamples(clock, WINDOW, 1024);
        cloudScale = new WindowedSamples(clock, WINDOW, 1024);
        link = new LinkEstimator(clock, WINDOW, LinkEstimator.DEFAULT_RESOLUTION_FLOOR_NANOS);
    }

    /** How the segments measured here are numbered. */
    public Segments segments() {
        return segments;
    }

    public void recordEdge(int segment, long nanos) {
        edge[segment].add(nanos);
    }

    /**
     * The worker's per-segment compute at batch 1, from its Describe profile or the coordinator's
     * assignment, in nanoseconds. A segment this pack does not have, or a time that is no positive
     * number, is another pack's or nothing measured: ignored, never an exception on a control thread.
     */
    public void setCloudProfile(int segment, double nanos) {
        if (segment >= 0 && segment < cloudSegment.length && nanos > 0 && Double.isFinite(nanos)) {
            cloudSegment[segment] = nanos;
        }
    }

    /** A quantile of the recent times of one local segment, nanoseconds; NaN while it has none (experiments replay with the median). */
    public double edgeQuantile(int segment, double q) {
        return edge[segment].quantile(q);
    }

    /** The worker's compute of one segment at batch 1 from its profile, nanoseconds; 0 until the worker described itself. */
    public double cloudProfile(int segment) {
        return cloudSegment[segment];
    }

    /** Blocks the device holds. */
    public int kMax() {
        return kMax;
    }

    public LinkEstimator link() {
        return link;
    }

    /**
     * The first cloud result of a request: samples the worker's queueing and compute. It is no
     * bandwidth sample: the worker's receive time (header to last payload byte) is a dispersion,
     * and a payload that the link delivers in one burst arrives all at once, whatever the rate (a
     * 784-byte input read as exactly 784 B / 100 us = 62.72 Mbps under the old floor). With the
     * sender's own timing, use {@link #recordCloud(long, Candidate, double, long)}.
     */
    public void recordCloud(long bytes, Candidate first, double profiledComputeNanos) {
        synchronized (this) { // the link delivers again: a run of misses ends
            unanswered = 0;
            unansweredBytes = 0;
            unansweredNanos = 0;
        }
        Candidate.ServerTiming t = first.server();
        if (t == null) {
            return;
        }
        queue.add(t.queueNanos());
        if (profiledComputeNanos > 0) {
            cloudScale.add(t.computeNanos() / profiledComputeNanos);
        }
    }

    /**
     * As above, and a passive bandwidth bound timed at the sender: {@code sentToFirstResultNanos}
     * from the payload's first byte handed to the channel to the first result's arrival, less the
     * worker's queueing and compute and one round trip, is at least the transfer time of {@code bytes}.
     * It also holds both sides' processing (threads, event loops, decoding: milliseconds on a busy
     * device), which on a fast link is most of it, so it is recorded as a lower bound on the rate,
     * never as the rate itself (measured: taken as the rate, a loopback link read under 1 MB/s in the
     * demo); probes, sized until they resolve the rate, carry the value.
     *
     * <p>An offload whose payload crosses in at most {@link #PASSIVE_RTT_SHARE} of the round trip at
     * the current estimate is also a round-trip sample: {@code sentToFirstResultNanos} less the
     * worker's queueing and compute, its small transfer left in (so an estimate too high errs late,
     * never early). The prober's empty-stream pings pay for a call of their own on a connection of
     * their own, which the request path does not: on the 5G trace with a 2-block device and 5 ms
     * each way, in one run, pings read a median 16.1 ms (p25 13.9) where cloud-only offloads read
     * 12.7 ms (p25 12.1), and a planner that added the pings' figure to every cloud path kept all
     * requests local at 20 ms while offloads came back in time.
     */
    public void recordCloud(long bytes, Candidate first, double profiledComputeNanos, long sentToFirstResultNanos) {
        recordCloud(bytes, first, profiledComputeNanos);
        Candidate.ServerTiming t = first.server();
        if (t != null) {
            double r = link.rtt();
            long roundTrip = sentToFirstResultNanos - t.queueNanos() - t.computeNanos();
            link.recordLowerBound(bytes, Math.max(roundTrip - (Double.isNaN(r) ? 0 : (long) r), link.resolutionNanos()));
            double bw = link.bandwidth();
            if (!Double.isNaN(r) && bw > 0 && bytes * 1e9 / bw <= PASSIVE_RTT_SHARE * r) {
                link.recordRtt(roundTrip);
            }
        }
    }

    /** Largest share of the round trip an offload's transfer may take for the offload to count as a round-trip sample. */
    static final double PASSIVE_RTT_SHARE = 0.1;

    /**
     * An offload that produced no result by the deadline: the payload (plus the worker's work for the
     * first exit) did not make it in {@code waitedNanos}, so the uplink is at most
     * {@code bytes / (waited - worker - rtt)} now. Recorded as that: a bound from above, which caps the
     * estimate until newer evidence supersedes it and ages out with the window (never a value: the
     * worker, not the link, may have held it up). The worker's time is the one the planner assumes
     * (the pessimistic queueing and the profile scaled to the measured load, as in {@link #costs()}):
     * with the bare profile, a worker slowed by load made a fast link read as slow, and a bound looser
     * than the planner's own costs let it keep planning offloads that this very miss had ruled out.
     *
     * <p>Each transfer time is off by up to one resolution: the round trips' spread
     * ({@link LinkEstimator#resolutionNanos()}) plus the worker's own (p90 - p10 of its queueing and
     * compute), so one miss counts only if its transfer time is at least that (measured: single misses
     * 2 ms past the round trips' spread alone capped a 20 MB/s link at 38 kB/s for a second). Misses
     * in a row, with no result in between, are taken together: their errors average out as over
     * {@code n} independent samples, so the run counts once its summed transfer time reaches
     * {@code sqrt(n)} resolutions, as the bound {@code sum(bytes) / sum(transfer)} (never below the
     * tightest single miss's bound, which each miss alone implies). Measured: on an 8 kB/s link with
     * a 30 ms resolution, every 16 ms miss fell under the resolution alone and the planner kept
     * offloading until a probe ended 1.5 s later. A run ends at a cloud result, or when its last miss
     * has left the estimator's window.
     */
    public void recordNoResult(long bytes, long waitedNanos, double profiledComputeNanos) {
        double rtt = link.rtt();
        double worker = queueNanos() + profiledComputeNanos * cloudScale();
        long transfer = (long) (waitedNanos - worker - (Double.isNaN(rtt) ? 0 : rtt));
        if (transfer <= 0) {
            return; // the worker's own time explains the miss: nothing about the link
        }
        long runBytes;
        long runNanos;
        int n;
        synchronized (this) {
            long now = clock.nanoTime();
            if (now - lastMissAt > link.windowNanos()) { // a run is evidence about now: one older than the window is over
                unanswered = 0;
                unansweredBytes = 0;
                unansweredNanos = 0;
            }
            lastMissAt = now;
            unansweredBytes += bytes;
            unansweredNanos += transfer;
            runBytes = unansweredBytes;
            runNanos = unansweredNanos;
            n = ++unanswered;
        }
        long resolution = link.resolutionNanos() + (long) workerSpreadNanos(profiledComputeNanos);
        if (transfer >= resolution) {
            link.recordUpperBound(bytes, transfer);
        } else if (n > 1 && runNanos >= resolution * Math.sqrt(n)) {
            link.recordUpperBound(runBytes, runNanos);
        }
    }

    /** Worker compute from the profile for a request entering at {@code split} up to {@code exit}, nanoseconds. */
    public double profiledCloudCompute(int split, int exit) {
        return profiledCloudCompute(split, exit, io.cleave.core.plan.BlockSkip.NONE);
    }

    /** As {@link #profiledCloudCompute(int, int)}, the blocks in {@code skip} left out. */
    public double profiledCloudCompute(int split, int exit, io.cleave.core.plan.BlockSkip skip) {
        double t = split == 0 ? cloudSegment[segments.stem()] : 0;
        for (int k = split + 1; k <= pack.exit(exit).afterBlock(); k++) {
            t += skip.skips(k) ? 0 : cloudSegment[segments.block(k)];
        }
        for (int e = 0; e <= exit; e++) {
            if (ExitPlacement.inCloud(pack.exit(e).afterBlock(), split)) {
                t += cloudSegment[segments.exit(e)];
            }
        }
        return t;
    }

    /** Pessimistic costs for the planner, or null while something needed was never measured. */
    public Costs costs() {
        double stem = q(segments.stem());
        if (Double.isNaN(stem)) {
            return null;
        }
        double[] eb = new double[kMax + 1];
        for (int k = 1; k <= kMax; k++) {
            eb[k] = q(segments.block(k));
        }
        double[] ee = new double[pack.exitCount()];
        double[] ce = new double[pack.exitCount()];
        double scale = cloudScale();
        for (int e = 0; e < ee.length; e++) {
            ee[e] = ExitPlacement.held(pack.exit(e).afterBlock(), kMax) ? q(segments.exit(e)) : 0;
            ce[e] = cloudSegment[segments.exit(e)] * scale;
        }
        double[] cb = new double[pack.blockCount() + 1];
        for (int k = 1; k <= pack.blockCount(); k++) {
            cb[k] = cloudSegment[segments.block(k)] * scale;
        }
        double bw = link.bandwidth();
        double rtt = link.rtt();
        double qd = queueNanos();
        return new Costs(stem, eb, ee, cloudSegment[segments.stem()] * scale, cb, ce, qd, Double.isNaN(bw) ? 0 : bw, Double.isNaN(rtt) ? 0 : rtt,
                link.rttQuantiles());
    }

    /** The worker's compute relative to its profile, pessimistic (p90), never below the profile. */
    private double cloudScale() {
        return cloudScale.count() == 0 ? 1.0 : Math.max(1.0, cloudScale.quantile(0.9));
    }

    /** How much the worker's time for {@code profiledComputeNanos} of work varies: p90 - p10 of its queueing and compute. */
    private double workerSpreadNanos(double profiledComputeNanos) {
        double q = queue.count() == 0 ? 0 : queue.quantile(0.9) - queue.quantile(0.1);
        double c = cloudScale.count() == 0 ? 0 : profiledComputeNanos * (cloudScale.quantile(0.9) - cloudScale.quantile(0.1));
        return q + c;
    }

    /** The worker's queueing, pessimistic (p90), in nanoseconds. */
    private double queueNanos() {
        return queue.count() == 0 ? 0 : queue.quantile(0.9);
    }

    private double q(int segment) {
        double v = edge[segment].quantile(quantile);
        return Double.isNaN(v) ? 0 : v;
    }
}
