package io.cleave.edge.plan;

import io.cleave.core.plan.Decision;
import io.cleave.core.plan.Plan;

/** Chooses a {@link Plan} per request: the seam where the coordinator's planner plugs in. */
@FunctionalInterface
public interface Planner {
    /**
     * @param deadlineNanos time left until the request's deadline
     */
    Plan plan(long deadlineNanos);

    /**
     * The plan with what was predicted for it (for logging and for comparing with what happened);
     * planners that predict nothing return a decision with expected exit -1.
     */
    default Decision decide(long deadlineNanos) {
        return new Decision("fixed", plan(deadlineNanos), -1, false, Double.NaN, -1, java.util.Map.of());
    }
}
