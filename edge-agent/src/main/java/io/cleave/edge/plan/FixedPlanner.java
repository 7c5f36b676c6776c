package io.cleave.edge.plan;

import io.cleave.core.plan.Plan;

/** The same plan for every request, from configuration. */
public final class FixedPlanner implements Planner {
    private final Plan plan;

    public FixedPlanner(Plan plan) {
        this.plan = plan;
    }

    @Override
    public Plan plan(long deadlineNanos) {
        return plan;
    }
}
