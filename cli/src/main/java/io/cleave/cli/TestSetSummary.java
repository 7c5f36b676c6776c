package io.cleave.cli;

import io.cleave.core.measure.Percentiles;
import io.cleave.edge.Outcome;
import io.cleave.edge.race.Candidate;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Collects the answers of a test-set run through an edge agent and prints where they came from, how accurate and how late. */
final class TestSetSummary {
    private final List<Long> latencies = new ArrayList<>();
    private final Map<String, int[]> byExit = new TreeMap<>(); // "exit 1 (cloud)" -> {count, correct}
    private int total;
    private int correctInTime;
    private int met;
    private int errors;
    private long bytes;

    synchronized void add(Outcome o, int label) {
        Candidate c = o.answer().candidate();
        total++;
        latencies.add(o.answer().latencyNanos());
        boolean right = c.predictedClass() == label;
        if (o.answer().deadlineMet()) {
            met++;
            if (right) {
                correctInTime++;
            }
        }
        bytes += o.bytesSent();
        int[] row = byExit.computeIfAbsent("exit " + c.exit() + " (block " + c.block() + ", " + (c.cloud() ? "cloud" : "local") + ")",
                k -> new int[2]);
        row[0]++;
        if (right) {
            row[1]++;
        }
    }

    private final Map<String, Integer> errorKinds = new TreeMap<>();

    synchronized void error(Throwable t) {
        errors++;
        total++;
        Throwable root = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        String m = String.valueOf(root.getMessage());
        // one line per kind: the message up to its first number, which is where refusals differ
        String kind = root.getClass().getSimpleName() + ": " + m.replaceAll("[0-9].*$", "").strip();
        errorKinds.merge(kind, 1, Integer::sum);
        firstOfKind.putIfAbsent(kind, m);
    }

    private final Map<String, String> firstOfKind = new TreeMap<>();

    synchronized double accuracyAtDeadline() {
        return total == 0 ? 0 : correctInTime / (double) total;
    }

    synchronized void print(PrintStream out) {
        long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        out.printf("requests %d, answered %d, errors %d%n", total, l.length, errors);
        errorKinds.forEach((k, v) -> out.printf("  %d x %s (first: %s)%n", v, k.substring(0, k.indexOf(':')), firstOfKind.get(k)));
        out.printf("accuracy at deadline %.2f%%, deadlines met %.2f%%, offloaded bytes/request %.0f%n",
                100.0 * correctInTime / Math.max(1, total), 100.0 * met / Math.max(1, total), bytes / (double) Math.max(1, total));
        if (l.length > 0) {
            out.printf("latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f%n", ms(l, 50), ms(l, 95), ms(l, 99), l[l.length - 1] / 1e6);
        }
        out.println("answered by:");
        byExit.forEach((k, v) -> out.printf("  %-28s %6d (%5.1f%%)  accuracy %.2f%%%n", k, v[0], 100.0 * v[0] / Math.max(1, total),
                100.0 * v[1] / Math.max(1, v[0])));
    }

    /** The same as {@link #print}, for {@code --json}: counts, rates, latency percentiles (ms), answers by exit, errors by kind. */
    synchronized Map<String, Object> toMap() {
        long[] l = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("requests", total);
        m.put("answered", l.length);
        m.put("errors", errors);
        m.put("accuracy_at_deadline", correctInTime / (double) Math.max(1, total));
        m.put("deadlines_met", met / (double) Math.max(1, total));
        m.put("offloaded_bytes_per_request", bytes / (double) Math.max(1, total));
        if (l.length > 0) {
            m.put("latency_ms", Map.of("p50", ms(l, 50), "p95", ms(l, 95), "p99", ms(l, 99), "max", l[l.length - 1] / 1e6));
        }
        Map<String, Object> exits = new java.util.LinkedHashMap<>();
        byExit.forEach((k, v) -> exits.put(k, Map.of("count", v[0], "accuracy", v[1] / (double) Math.max(1, v[0]))));
        m.put("answered_by", exits);
        Map<String, Object> errs = new java.util.LinkedHashMap<>();
        errorKinds.forEach((k, v) -> errs.put(k.substring(0, k.indexOf(':')), Map.of("count", v, "first", firstOfKind.get(k))));
        m.put("errors_by_kind", errs);
        return m;
    }

    private static double ms(long[] sortedNanos, double p) {
        return Percentiles.of(sortedNanos, p) / 1e6;
    }
}
