package io.cleave.edge;

import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Answer;
import io.cleave.edge.race.Candidate;

/**
 * A request's answer with the plan it followed.
 *
 * @param bytesSent payload bytes offloaded to the cloud (0 if none)
 * @param candidates every exit result that had arrived when the answer was sent, in arrival order
 * @param edgeBeforeSendNanos from accepting the request to handing the tokens to gRPC (0 when nothing was sent or
 *     the input was sent at once)
 * @param decision what the planner predicted (exit, latency breakdown, accuracy), to compare with {@code answer}
 */
public record Outcome(Answer answer, Plan plan, long bytesSent, java.util.List<Candidate> candidates, long edgeBeforeSendNanos,
        io.cleave.core.plan.Decision decision) {

    /**
     * Whether the answer is what the planner expected: its expected exit, or a confident local stop
     * its threshold allowed (false when it predicted nothing).
     */
    public boolean asPredicted() {
        if (decision == null || decision.expectedExit() < 0) {
            return false;
        }
        return "confident".equals(answer.reason()) && decision.plan().threshold() <= 1
                || decision.expectedExit() == answer.candidate().exit() && decision.expectedCloud() == answer.candidate().cloud();
    }
}
