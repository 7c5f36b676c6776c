package io.cleave.experiment;

import io.cleave.core.plan.Costs;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policy;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.edge.plan.Planner;
import io.cleave.link.Trace;
import java.util.function.Supplier;

/**
 * Cleave's search fed the true uplink bandwidth of the next deadline window, read from the trace
 * being replayed: an upper bound for experiments, not a deployable policy.
 */
final class OraclePlanner implements Planner {
    private final Policy oracle;
    private final Supplier<EdgeMeasurements> measurements;
    private final Trace trace;
    private final long startNanos;
    private final Plan fallback;

    OraclePlanner(Policy oracle, Supplier<EdgeMeasurements> measurements, Trace trace, long startNanos, Plan fallback) {
        this.oracle = oracle;
        this.measurements = measurements;
        this.trace = trace;
        this.startNanos = startNanos;
        this.fallback = fallback;
    }

    @Override
    public Plan plan(long deadlineNanos) {
        return decide(deadlineNanos).plan();
    }

    @Override
    public Decision decide(long deadlineNanos) {
        EdgeMeasurements m = measurements.get();
        Costs c = m == null ? null : m.costs();
        if (c == null) {
            return new Decision("oracle", fallback, -1, false, Double.NaN, -1, java.util.Map.of());
        }
        long nowMs = (System.nanoTime() - startNanos) / 1_000_000;
        double trueBytesPerSecond = trace.mbpsBetween(nowMs, nowMs + Math.max(1, deadlineNanos / 1_000_000)) * 125_000;
        return oracle.decide(deadlineNanos, c.withLink(trueBytesPerSecond, c.rtt()));
    }
}
