package io.cleave.core.plan;

/**
 * Measured (or assumed) times the planner works with, in nanoseconds, and the link. Policies
 * plan on these as given; make them pessimistic (tail quantiles, low bandwidth) to meet deadlines
 * with high probability.
 *
 * @param edgeStem edge compute of the stem
 * @param edgeBlock edgeBlock[k] = edge compute of block k (index 0 unused); length k_max + 1
 * @param edgeExit edge compute of each exit (only those within k_max are used)
 * @param cloudStem worker compute of the stem (for split 0)
 * @param cloudBlock cloudBlock[k] = worker compute of block k per request at the batch it runs in
 * @param cloudExit worker compute of each exit
 * @param queue expected queueing delay at the worker
 * @param bandwidth uplink bytes per second (0: no link)
 * @param rtt round-trip time
 * @param rttQuantiles the round trips' distribution as equally likely values, ascending (see
 *        {@code LinkEstimator#rttQuantiles}); empty when only {@code rtt} is known, which is then
 *        taken as certain
 */
public record Costs(double edgeStem, double[] edgeBlock, double[] edgeExit, double cloudStem, double[] cloudBlock,
        double[] cloudExit, double queue, double bandwidth, double rtt, double[] rttQuantiles) {

    /** Costs whose round trip is known only as {@code rtt}. */
    public Costs(double edgeStem, double[] edgeBlock, double[] edgeExit, double cloudStem, double[] cloudBlock, double[] cloudExit,
            double queue, double bandwidth, double rtt) {
        this(edgeStem, edgeBlock, edgeExit, cloudStem, cloudBlock, cloudExit, queue, bandwidth, rtt, new double[0]);
    }

    /**
     * The probability that the round trip is at most {@code nanos}: the share of {@link #rttQuantiles}
     * at or below it, or 0/1 against {@link #rtt} when no distribution is known.
     */
    public double rttAtMost(double nanos) {
        if (rttQuantiles.length == 0) {
            return rtt <= nanos ? 1 : 0;
        }
        int n = 0;
        while (n < rttQuantiles.length && rttQuantiles[n] <= nanos) {
            n++;
        }
        return (double) n / rttQuantiles.length;
    }

    @Override
    public String toString() {
        double eb = java.util.Arrays.stream(edgeBlock).sum();
        double cb = java.util.Arrays.stream(cloudBlock).sum();
        return String.format("Costs[k_max=%d edge stem %.0f us, blocks %.0f us; cloud stem %.0f us, blocks %.0f us; queue %.0f us; "
                + "uplink %.2f MB/s; rtt %.0f us]", kMax(), edgeStem / 1e3, eb / 1e3, cloudStem / 1e3, cb / 1e3, queue / 1e3,
                bandwidth / 1e6, rtt / 1e3);
    }

    /** k_max: blocks the edge holds. */
    public int kMax() {
        return edgeBlock.length - 1;
    }

    /** Other link figures; the round trips' distribution is kept only while the round trip is the same. */
    public Costs withLink(double bandwidth, double rtt) {
        return new Costs(edgeStem, edgeBlock, edgeExit, cloudStem, cloudBlock, cloudExit, queue, bandwidth, rtt,
                rtt == this.rtt ? rttQuantiles : new double[0]);
    }

    public Costs withQueue(double queue) {
        return new Costs(edgeStem, edgeBlock, edgeExit, cloudStem, cloudBlock, cloudExit, queue, bandwidth, rtt, rttQuantiles);
    }

    /** The same costs with the blocks in {@code skip} taking no time, on the edge and in the cloud (they are left out). */
    public Costs skipping(BlockSkip skip) {
        if (!skip.any()) {
            return this;
        }
        double[] eb = edgeBlock.clone();
        double[] cb = cloudBlock.clone();
        for (int k : skip.blocks()) {
            if (k < eb.length) {
                eb[k] = 0;
            }
            if (k < cb.length) {
                cb[k] = 0;
            }
        }
        return new Costs(edgeStem, eb, edgeExit, cloudStem, cb, cloudExit, queue, bandwidth, rtt, rttQuantiles);
    }

    /** The same costs for a device holding only the first {@code k} blocks. */
    public Costs withKMax(int k) {
        return new Costs(edgeStem, java.util.Arrays.copyOf(edgeBlock, k + 1), edgeExit, cloudStem, cloudBlock, cloudExit, queue,
                bandwidth, rtt, rttQuantiles);
    }
}
