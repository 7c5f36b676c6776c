package io.cleave.edge;

import io.cleave.edge.plan.Plan;
import io.cleave.edge.race.Answer;

/**
 * A request's answer with the plan it followed.
 *
 * @param bytesSent payload bytes offloaded to the cloud (0 if none)
 */
public record Outcome(Answer answer, Plan plan, long bytesSent) {}
