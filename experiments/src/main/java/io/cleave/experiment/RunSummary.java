package io.cleave.experiment;

import io.cleave.core.measure.Percentiles;
import java.util.Arrays;
import java.util.List;

/** Per trace, policy and deadline: what the requests of one run add up to. */
public record RunSummary(String trace, String policy, double deadlineMs, int requests, double accuracyAtDeadline, double deadlineHitRate,
        double p50Ms, double p95Ms, double p99Ms, double bytesPerRequest, double offloadRate) {

    static RunSummary of(String trace, String policy, double deadlineMs, List<RequestRecord> rows) {
        int n = rows.size();
        double[] lat = rows.stream().mapToDouble(RequestRecord::latencyMs).sorted().toArray();
        return new RunSummary(trace, policy, deadlineMs, n,
                rows.stream().filter(RequestRecord::correctInTime).count() / (double) Math.max(1, n),
                rows.stream().filter(RequestRecord::deadlineMet).count() / (double) Math.max(1, n),
                Percentiles.of(lat, 50), Percentiles.of(lat, 95), Percentiles.of(lat, 99),
                rows.stream().mapToLong(RequestRecord::bytes).average().orElse(0),
                rows.stream().filter(RequestRecord::offloaded).count() / (double) Math.max(1, n));
    }

    static String markdown(List<RunSummary> runs, String device, String link) {
        StringBuilder b = new StringBuilder("# Experiment summary\n\n");
        b.append("- ").append(device).append("\n- ").append(link).append("\n\n");
        b.append("| trace | policy | deadline ms | requests | accuracy at deadline | deadline hits | p50 ms | p95 ms | p99 ms | bytes/request | offloaded |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (RunSummary r : runs) {
            b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %.0f | %d | %.2f%% | %.2f%% | %.1f | %.1f | %.1f | %.0f | %.0f%% |%n",
                    r.trace, r.policy, r.deadlineMs, r.requests, 100 * r.accuracyAtDeadline, 100 * r.deadlineHitRate, r.p50Ms, r.p95Ms,
                    r.p99Ms, r.bytesPerRequest, 100 * r.offloadRate));
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return Arrays.toString(new Object[] {trace, policy, deadlineMs, accuracyAtDeadline, deadlineHitRate});
    }
}
