package io.cleave.experiment;

import io.cleave.core.measure.Percentiles;
import java.util.Arrays;
import java.util.List;

/**
 * Per trace, device, policy and deadline: what the requests of one run add up to, with 95% intervals
 * (Wilson for the proportions, normal for the mean depth; see {@link Stats}).
 *
 * @param meanDepthAtDeadline mean block of the answering exit, 0 for a late answer (what an untrained pack reports)
 * @param unanswered requests with no answer (refused by the edge's admission control, or failed): counted as misses
 */
public record RunSummary(String trace, String device, String policy, double deadlineMs, int requests, double accuracyAtDeadline,
        double accuracyLow, double accuracyHigh, double deadlineHitRate, double hitLow, double hitHigh, double meanDepthAtDeadline,
        double depthLow, double depthHigh, double p50Ms, double p95Ms, double p99Ms, double bytesPerRequest, double offloadRate, int unanswered) {

    static RunSummary of(String trace, String device, String policy, double deadlineMs, List<RequestRecord> rows) {
        int n = rows.size();
        double[] lat = rows.stream().mapToDouble(RequestRecord::latencyMs).sorted().toArray();
        Stats.Interval acc = Stats.wilson(rows.stream().filter(RequestRecord::correctInTime).count(), n);
        Stats.Interval hit = Stats.wilson(rows.stream().filter(RequestRecord::deadlineMet).count(), n);
        Stats.Interval depth = Stats.mean(rows.stream().mapToDouble(Metric.DEPTH::score).toArray());
        return new RunSummary(trace, device, policy, deadlineMs, n, acc.estimate(), acc.low(), acc.high(), hit.estimate(), hit.low(),
                hit.high(), depth.estimate(), depth.low(), depth.high(), Percentiles.of(lat, 50), Percentiles.of(lat, 95),
                Percentiles.of(lat, 99), rows.stream().mapToLong(RequestRecord::bytes).average().orElse(0),
                rows.stream().filter(RequestRecord::offloaded).count() / (double) Math.max(1, n),
                (int) rows.stream().filter(r -> r.exit() < 0).count());
    }

    /** The run's score under {@code metric}, with its interval. */
    Stats.Interval score(Metric metric) {
        return metric == Metric.ACCURACY ? new Stats.Interval(accuracyAtDeadline, accuracyLow, accuracyHigh)
                : new Stats.Interval(meanDepthAtDeadline, depthLow, depthHigh);
    }

    RequestRecord.Cell cell() {
        return new RequestRecord.Cell(trace, device, deadlineMs);
    }

    @Override
    public String toString() {
        return Arrays.toString(new Object[] {trace, device, policy, deadlineMs, accuracyAtDeadline, deadlineHitRate});
    }
}
