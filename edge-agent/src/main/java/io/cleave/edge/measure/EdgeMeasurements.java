package io.cleave.edge.measure;

import io.cleave.core.measure.LinkEstimator;
import io.cleave.core.measure.WindowedSamples;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.Costs;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.race.Candidate;
import java.util.concurrent.TimeUnit;

/**
 * What the edge measures, kept current from live runs: its own compute per segment (a windowed
 * tail quantile), the worker's compute and queueing (from the timing in each cloud result and the
 * worker's reported profile), and the uplink ({@link LinkEstimator}: active probes, offloads timed
 * at the sender, and offloads that got no result).
 *
 * <p>Segments: 0 = stem, k = block k, {@code blocks + 1 + e} = exit e.
 */
public final class EdgeMeasurements {
    private static final long WINDOW = TimeUnit.SECONDS.toNanos(2);

    private final ModelPack pack;
    private final int kMax;
    private final WindowedSamples[] edge;
    private final double[] cloudSegment; // worker compute per segment at batch 1 (from Describe), nanos
    private final WindowedSamples queue;
    private final WindowedSamples cloudScale; // measured / profiled cloud compute, to follow load
    private final LinkEstimator link;
    private final double quantile;

    public EdgeMeasurements(ModelPack pack, int kMax, NanoClock clock, double quantile) {
        this.pack = pack;
        this.kMax = kMax;
        this.quantile = quantile;
        int segments = pack.blockCount() + 1 + pack.exitCount();
        edge = new WindowedSamples[segments];
        for (int i = 0; i < segments; i++) {
            edge[i] = new WindowedSamples(clock, TimeUnit.SECONDS.toNanos(30), 512);
        }
        cloudSegment = new double[segments];
        queue = new WindowedSamples(clock, WINDOW, 1024);
        cloudScale = new WindowedSamples(clock, WINDOW, 1024);
        link = new LinkEstimator(clock, WINDOW, LinkEstimator.DEFAULT_RESOLUTION_FLOOR_NANOS);
    }

    public int exitSegment(int exit) {
        return pack.blockCount() + 1 + exit;
    }

    public void recordEdge(int segment, long nanos) {
        edge[segment].add(nanos);
    }

    /** The worker's per-segment compute at batch 1, e.g. from its Describe profile, in nanoseconds. */
    public void setCloudProfile(int segment, double nanos) {
        cloudSegment[segment] = nanos;
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
     */
    public void recordCloud(long bytes, Candidate first, double profiledComputeNanos, long sentToFirstResultNanos) {
        recordCloud(bytes, first, profiledComputeNanos);
        Candidate.ServerTiming t = first.server();
        if (t != null) {
            double r = link.rtt();
            long transfer = sentToFirstResultNanos - t.queueNanos() - t.computeNanos() - (Double.isNaN(r) ? 0 : (long) r);
            link.recordLowerBound(bytes, Math.max(transfer, link.resolutionNanos()));
        }
    }

    /**
     * An offload that produced no result by the deadline: the payload (plus the worker's work for the
     * first exit) did not make it in {@code waitedNanos}, so the uplink is at most
     * {@code bytes / (waited - compute - rtt)} now. Recorded as that: a bound from above, which caps the
     * estimate until newer evidence supersedes it and ages out with the window (never a value: the
     * worker's queue, not the link, may have held it up).
     */
    public void recordNoResult(long bytes, long waitedNanos, double profiledComputeNanos) {
        double rtt = link.rtt();
        long transfer = (long) (waitedNanos - profiledComputeNanos - (Double.isNaN(rtt) ? 0 : rtt));
        if (transfer >= link.resolutionNanos()) {
            link.recordUpperBound(bytes, transfer);
        }
    }

    /** Worker compute from the profile for a request entering at {@code split} up to {@code exit}, nanoseconds. */
    public double profiledCloudCompute(int split, int exit) {
        double t = split == 0 ? cloudSegment[0] : 0;
        for (int k = split + 1; k <= pack.exit(exit).afterBlock(); k++) {
            t += cloudSegment[k];
        }
        for (int e = 0; e <= exit; e++) {
            if (pack.exit(e).afterBlock() > split) {
                t += cloudSegment[exitSegment(e)];
            }
        }
        return t;
    }

    /** Pessimistic costs for the planner, or null while something needed was never measured. */
    public Costs costs() {
        double stem = q(0);
        if (Double.isNaN(stem)) {
            return null;
        }
        double[] eb = new double[kMax + 1];
        for (int k = 1; k <= kMax; k++) {
            eb[k] = q(k);
        }
        double[] ee = new double[pack.exitCount()];
        double[] ce = new double[pack.exitCount()];
        double scale = cloudScale.count() == 0 ? 1.0 : Math.max(1.0, cloudScale.quantile(0.9));
        for (int e = 0; e < ee.length; e++) {
            ee[e] = pack.exit(e).afterBlock() <= kMax ? q(exitSegment(e)) : 0;
            ce[e] = cloudSegment[exitSegment(e)] * scale;
        }
        double[] cb = new double[pack.blockCount() + 1];
        for (int k = 1; k <= pack.blockCount(); k++) {
            cb[k] = cloudSegment[k] * scale;
        }
        double bw = link.bandwidth();
        double rtt = link.rtt();
        double qd = queue.count() == 0 ? 0 : queue.quantile(0.9);
        return new Costs(stem, eb, ee, cloudSegment[0] * scale, cb, ce, qd, Double.isNaN(bw) ? 0 : bw, Double.isNaN(rtt) ? 0 : rtt);
    }

    private double q(int segment) {
        double v = edge[segment].quantile(quantile);
        return Double.isNaN(v) ? 0 : v;
    }
}
