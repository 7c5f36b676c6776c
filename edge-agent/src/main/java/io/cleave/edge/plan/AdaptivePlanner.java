package io.cleave.edge.plan;

import io.cleave.core.plan.Costs;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.Policy;
import io.cleave.edge.measure.EdgeMeasurements;
import java.util.function.Consumer;

/**
 * Plans every request with a {@link Policy} on the edge's live measurements (embedded mode: the
 * same planner the coordinator runs). Until the link has been measured it follows the fallback
 * plan, which must offload so that measurements start flowing.
 */
public final class AdaptivePlanner implements Planner {
    private final Policy policy;
    private final EdgeMeasurements measurements;
    private final Plan fallback;
    private final Consumer<Decision> log;
    private volatile Decision last;
    private volatile Costs lastCosts;

    public AdaptivePlanner(Policy policy, EdgeMeasurements measurements, Plan fallback, Consumer<Decision> log) {
        this.policy = policy;
        this.measurements = measurements;
        this.fallback = fallback;
        this.log = log;
    }

    @Override
    public Plan plan(long deadlineNanos) {
        return decide(deadlineNanos).plan();
    }

    @Override
    public Decision decide(long deadlineNanos) {
        Costs c = measurements.costs();
        if (c == null || c.bandwidth() <= 0) {
            return new Decision("fallback", fallback, -1, false, Double.NaN, -1, java.util.Map.of());
        }
        Decision d = policy.decide(deadlineNanos, c);
        last = d;
        lastCosts = c;
        log.accept(d);
        return d;
    }

    /** The costs the most recent decision was made on. */
    public Costs lastCosts() {
        return lastCosts;
    }

    /** The most recent decision, with its predicted breakdown. */
    public Decision last() {
        return last;
    }
}
