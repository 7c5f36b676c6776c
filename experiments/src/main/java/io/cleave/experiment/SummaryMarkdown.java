package io.cleave.experiment;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** summary.md: the runs with their intervals, the paired comparisons, and the hindsight bound, each with its definition. */
final class SummaryMarkdown {
    static final String STATISTICS = "95% intervals. Proportions (accuracy at deadline, deadline hits): Wilson score interval. "
            + "Mean exit depth: mean ± 1.96·sd/√n. Paired differences: request i of every run in a trace x device x deadline used test "
            + "image i, so policies pair by request; the difference is the mean of per-request score differences (policy minus "
            + "reference) ± 1.96·sd/√n, sd the sample sd of those differences (normal approximation; for 0/1 scores, the paired "
            + "difference of proportions McNemar's test is built on). [0, 0] means the two runs scored the same on every request.";
    static final String HINDSIGHT = "Hindsight bound = best of the policies run: per request index (the same image at the same offset "
            + "into the trace), the best answer any policy's run delivered: right and in "
            + "time if any was, else the deepest exit in time. "
            + "It is computed by replaying the measured outcomes, not by searching every candidate plan (a plan no policy chose is "
            + "not in it), and taking the best of several noisy runs biases it upwards; no policy can exceed it per request.";
    static final String REPLAY = "Hindsight bound by replay = per request of a run, the best answer any candidate plan would have "
            + "produced under the realised link and compute: right and in time if any plan's was, else the deepest exit in time. "
            + "Plans: edge-only and every split 0..k_max, every encoding, every confidence threshold the planner considers (the "
            + "pack's validation thresholds, and none), each also with the device's compute stopped after any block. Each is "
            + "replayed: the device's segments at the medians of what the run's edge measured (emulated slowdown included); the "
            + "payload leaving once the blocks before the split have run, through the uplink trace from the request's own send "
            + "offset, plus the added one-way delay and outages; the worker's compute at its profiled per-segment times (batch 1); "
            + "each exit's result back through the downlink trace (unshaped without one) plus the delay; the edge's arbiter rule "
            + "(the deepest exit arrived, answered when the final exit arrives, a local exit's confidence reaches the threshold, or "
            + "the deadline timer fires, 1 ms or a tenth of the budget early); right or wrong from the model's own predictions of "
            + "each exit on each image (the Java engine, the encodings' effect included). It ignores: queueing behind the run's other "
            + "requests (on the device, in the link and at the worker: each request replays on an idle system), the worker's "
            + "batching, gRPC framing on the uplink, packet loss, admission refusals, and the spread of segment times around their "
            + "medians. Each run is replayed at its own requests' send times (one schedule for every run, up to the sender's "
            + "jitter), so the bound is per run and each policy is paired with its own. It is a model, "
            + "not a certainty: a policy above its bound beyond the noise did what the replay says no plan could, and is flagged "
            + "(⚠) as a modelling gap.";

    private SummaryMarkdown() {}

    static String of(List<RunSummary> runs, List<Comparisons.Paired> paired, List<Hindsight.Bound> bounds, List<Comparisons.Paired> gaps,
            List<ReplayBound.Bound> replay, List<Comparisons.Paired> replayGaps, Map<String, Object> meta, Metric metric) {
        StringBuilder b = new StringBuilder("# Experiment summary\n\n");
        b.append("- Score: **").append(metric.label()).append("**\n");
        Object devices = meta.get("devices");
        if (devices instanceof List<?> l) {
            l.forEach(d -> b.append("- Device ").append(d).append('\n'));
        } else if (meta.get("device") != null) {
            b.append("- ").append(meta.get("device")).append('\n');
        }
        b.append("- ").append(meta.get("link")).append('\n');
        b.append("- ").append(STATISTICS).append("\n\n");
        runsTable(b, runs, paired, metric);
        beatsOracle(b, paired, metric);
        pairedTable(b, paired, metric);
        hindsightTable(b, bounds, gaps, metric);
        replayTable(b, runs, replay, replayGaps, bounds, meta, metric);
        return b.toString();
    }

    private static void runsTable(StringBuilder b, List<RunSummary> runs, List<Comparisons.Paired> paired, Metric metric) {
        b.append("## Runs\n\n");
        String score = metric == Metric.ACCURACY ? "accuracy at deadline [95% CI]" : "exit depth at deadline [95% CI]";
        b.append("| trace | device | policy | deadline ms | requests | ").append(score).append(" | ratio to oracle | deadline hits [95% CI] | ")
                .append(metric == Metric.ACCURACY ? "mean exit depth" : "accuracy (untrained: not meaningful)")
                .append(" | unanswered | p50 ms | p95 ms | p99 ms | bytes/request | offloaded |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (RunSummary r : runs) {
            Stats.Interval s = r.score(metric);
            Optional<RunSummary> oracle = runs.stream().filter(o -> o.policy().equals("oracle") && o.cell().equals(r.cell())).findFirst();
            String ratio = oracle.isEmpty() || r.policy().equals("oracle") ? ""
                    : !(oracle.get().score(metric).estimate() > 0) ? "n/a (oracle 0)"
                    : String.format(Locale.ROOT, "%.3fx", s.estimate() / oracle.get().score(metric).estimate());
            boolean flagged = paired.stream().anyMatch(p -> p.beatsOracle() && p.policy().equals(r.policy())
                    && new RequestRecord.Cell(p.trace(), p.device(), p.deadlineMs()).equals(r.cell()));
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %.0f | %d | %s | %s | %.1f%% [%.1f, %.1f] | %s | %d | %.1f | %.1f | %.1f | %.0f | %.0f%% |%n",
                    r.trace(), r.device(), r.policy(), r.deadlineMs(), r.requests(), withInterval(metric, s), (ratio + (flagged ? " ⚠" : "")).trim(),
                    100 * r.deadlineHitRate(), 100 * r.hitLow(), 100 * r.hitHigh(),
                    metric == Metric.ACCURACY ? String.format(Locale.ROOT, "%.2f", r.meanDepthAtDeadline())
                            : String.format(Locale.ROOT, "%.1f%%", 100 * r.accuracyAtDeadline()),
                    r.unanswered(), r.p50Ms(), r.p95Ms(), r.p99Ms(), r.bytesPerRequest(), 100 * r.offloadRate()));
        }
        b.append("\n⚠: above the oracle beyond the 95% interval of the paired difference (see below). Unanswered: refused by the "
                + "edge's admission control (it could not meet the deadline) or failed; each counts as a missed deadline.\n\n");
    }

    private static void beatsOracle(StringBuilder b, List<Comparisons.Paired> paired, Metric metric) {
        List<Comparisons.Paired> above = paired.stream().filter(Comparisons.Paired::beatsOracle).toList();
        b.append("## Above the oracle beyond the noise\n\n");
        if (above.isEmpty()) {
            b.append("None: no policy's paired difference to the oracle has its whole 95% interval above 0.\n\n");
            return;
        }
        b.append("The oracle plans as Cleave does with the true future link, so a policy above it beyond the noise is a bug to explain "
                + "(the oracle's plan, its cost model, or the emulation):\n\n");
        for (Comparisons.Paired p : above) {
            b.append(String.format(Locale.ROOT, "- %s on %s, %s, %.0f ms: %s [%s, %s] over %d requests (%d differ)%n", p.policy(), p.trace(),
                    p.device(), p.deadlineMs(), metric.formatDiff(p.difference()), metric.formatDiff(p.low()), metric.formatDiff(p.high()),
                    p.requests(), p.differing()));
        }
        b.append('\n');
    }

    private static void pairedTable(StringBuilder b, List<Comparisons.Paired> paired, Metric metric) {
        double target = metric == Metric.ACCURACY ? 0.01 : 0.1;
        b.append("## Paired differences on the same images\n\n");
        b.append(String.format(Locale.ROOT, "Policy minus reference, per request, averaged. \"requests for ±%s\": how many requests "
                + "per run would make this comparison's 95%% half-width %s, at the per-request variance seen here.%n%n",
                metric.binary() ? "1 pp" : "0.1 block", metric.binary() ? "1 pp" : "0.1 block"));
        b.append("| trace | device | deadline ms | policy | vs | requests | differing | difference [95% CI] | verdict | requests for ±")
                .append(metric.binary() ? "1 pp" : "0.1 block").append(" |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Comparisons.Paired p : paired) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %s | %s | %d | %d | %s [%s, %s] | %s | %s |%n", p.trace(), p.device(),
                    p.deadlineMs(), p.policy(), p.reference(), p.requests(), p.differing(), metric.formatDiff(p.difference()),
                    metric.formatDiff(p.low()), metric.formatDiff(p.high()), verdict(p),
                    p.differing() == 0 ? "—" : String.valueOf(Stats.requestsFor(p.interval(), p.requests(), target))));
        }
        b.append('\n');
    }

    static String verdict(Comparisons.Paired p) {
        if (p.beatsOracle()) {
            return "**above the oracle beyond the noise: a bug to explain**";
        }
        if (p.low() > 0) {
            return "better";
        }
        if (p.high() < 0) {
            return "worse";
        }
        return "within noise";
    }

    private static void hindsightTable(StringBuilder b, List<Hindsight.Bound> bounds, List<Comparisons.Paired> gaps, Metric metric) {
        b.append("## Hindsight bound (best of the policies run)\n\n").append(HINDSIGHT).append("\n\n");
        b.append("| trace | device | deadline ms | requests | policies | best of the policies run [95% CI] | in time | cleave − bound [95% CI] "
                + "| oracle − bound [95% CI] |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Hindsight.Bound h : bounds) {
            RequestRecord.Cell cell = new RequestRecord.Cell(h.trace(), h.device(), h.deadlineMs());
            b.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %d | %d | %s | %.1f%% | %s | %s |%n", h.trace(), h.device(), h.deadlineMs(),
                    h.requests(), h.policies().size(), withInterval(metric, h.score(metric)), 100 * h.hitRate(), gap(gaps, cell, "cleave", metric),
                    gap(gaps, cell, "oracle", metric)));
        }
    }

    private static void replayTable(StringBuilder b, List<RunSummary> runs, List<ReplayBound.Bound> replay, List<Comparisons.Paired> gaps,
            List<Hindsight.Bound> bestOfPolicies, Map<String, Object> meta, Metric metric) {
        b.append("\n## Hindsight bound by replay (every candidate plan)\n\n").append(REPLAY).append("\n\n");
        if (meta.get("notReplayed") instanceof List<?> l) {
            l.forEach(s -> b.append("- Not replayed: ").append(s).append('\n'));
            b.append('\n');
        }
        if (replay.isEmpty()) {
            b.append(meta.containsKey("notReplayed") ? "" : "Not replayed: the segment times and the link of these runs are not known here "
                    + "(the edges ran elsewhere).\n");
            return;
        }
        b.append("| trace | device | deadline ms | policy | requests | plans | policy [95% CI] | replay bound [95% CI] | in time "
                + "| policy − bound [95% CI] | best of the policies run |\n");
        b.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (ReplayBound.Bound h : replay) {
            String own = runs.stream().filter(r -> r.cell().equals(h.cell()) && r.policy().equals(h.policy())).findFirst()
                    .map(r -> withInterval(metric, r.score(metric))).orElse("");
            String best = bestOfPolicies.stream().filter(x -> new RequestRecord.Cell(x.trace(), x.device(), x.deadlineMs()).equals(h.cell()))
                    .findFirst().map(x -> withInterval(metric, x.score(metric))).orElse("");
            boolean flagged = gaps.stream().anyMatch(g -> ReplayBound.modellingGap(g) && g.policy().equals(h.policy())
                    && new RequestRecord.Cell(g.trace(), g.device(), g.deadlineMs()).equals(h.cell()));
            b.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %s | %d | %d | %s | %s | %.1f%% | %s%s | %s |%n", h.trace(), h.device(),
                    h.deadlineMs(), h.policy(), h.requests(), h.plans(), own, withInterval(metric, h.score(metric)), 100 * h.hitRate(),
                    gap(gaps, h.cell(), h.policy(), metric), flagged ? " ⚠" : "", best));
        }
        List<Comparisons.Paired> above = gaps.stream().filter(ReplayBound::modellingGap).toList();
        b.append("\n### Above the replay bound beyond the noise (modelling gaps)\n\n");
        if (above.isEmpty()) {
            b.append("None: no policy's paired difference to its replay bound has its whole 95% interval above 0.\n");
            return;
        }
        b.append("⚠: a policy did better than the replay says any plan could for the same requests: the replay leaves out something "
                + "that mattered here.\n\n");
        for (Comparisons.Paired p : above) {
            b.append(String.format(Locale.ROOT, "- %s on %s, %s, %.0f ms: %s [%s, %s] over %d requests (%d differ)%n", p.policy(), p.trace(),
                    p.device(), p.deadlineMs(), metric.formatDiff(p.difference()), metric.formatDiff(p.low()), metric.formatDiff(p.high()),
                    p.requests(), p.differing()));
        }
    }

    private static String gap(List<Comparisons.Paired> gaps, RequestRecord.Cell cell, String policy, Metric metric) {
        return gaps.stream().filter(g -> g.policy().equals(policy) && new RequestRecord.Cell(g.trace(), g.device(), g.deadlineMs()).equals(cell))
                .findFirst().map(g -> metric.formatDiff(g.difference()) + " [" + metric.formatDiff(g.low()) + ", " + metric.formatDiff(g.high()) + "]")
                .orElse("");
    }

    private static String withInterval(Metric metric, Stats.Interval s) {
        return metric.binary() ? String.format(Locale.ROOT, "%.1f%% [%.1f, %.1f]", 100 * s.estimate(), 100 * s.low(), 100 * s.high())
                : String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", s.estimate(), s.low(), s.high());
    }
}
