package io.cleave.edge.plan;

import io.cleave.core.plan.Plan;

/** Chooses a {@link Plan} per request: the seam where the coordinator's planner plugs in. */
@FunctionalInterface
public interface Planner {
    /**
     * @param deadlineNanos time left until the request's deadline
     */
    Plan plan(long deadlineNanos);
}
