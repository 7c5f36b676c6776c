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

    /** One class of an answer, ranked by probability. */
    public record Ranked(int index, String label, float probability) {}

    /** The answer's {@code k} most probable classes, most probable first (ties: lower class first); fewer if there are fewer classes. */
    public java.util.List<Ranked> top(int k, java.util.List<String> labels) {
        float[] p = answer.candidate().probabilities();
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < p.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> p[a] != p[b] ? Float.compare(p[b], p[a]) : Integer.compare(a, b));
        java.util.List<Ranked> out = new java.util.ArrayList<>();
        for (int i = 0; i < Math.min(k, p.length); i++) {
            out.add(new Ranked(order[i], labels.get(order[i]), p[order[i]]));
        }
        return out;
    }
}
