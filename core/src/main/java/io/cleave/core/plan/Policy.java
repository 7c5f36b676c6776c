package io.cleave.core.plan;

/** Chooses a plan for one request from the deadline and the current costs. Implementations are stateless and deterministic. */
@FunctionalInterface
public interface Policy {
    Decision decide(long deadlineNanos, Costs costs);
}
