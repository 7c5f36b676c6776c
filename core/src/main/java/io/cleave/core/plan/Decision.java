package io.cleave.core.plan;

import java.util.Map;

/**
 * A policy's choice for one request, with what it predicted: explainable, and comparable with
 * what then happened.
 *
 * @param expectedExit the exit the plan expects to answer with (-1: none in time)
 * @param expectedCloud whether that exit is computed in the cloud
 * @param expectedAccuracy accuracy of that exit under the plan (encoding cost included): what was optimised
 * @param predictedNanos predicted time until that exit is available
 * @param breakdown predicted components in nanoseconds (edge, encode+transfer, rtt, queue, cloud)
 */
public record Decision(String policy, Plan plan, int expectedExit, boolean expectedCloud, double expectedAccuracy,
        long predictedNanos, Map<String, Long> breakdown) {

    @Override
    public String toString() {
        return String.format("%s: %s -> exit %d (%s) in %.2f ms, expected accuracy %.2f%% %s", policy, plan, expectedExit,
                expectedCloud ? "cloud" : "local", predictedNanos / 1e6, 100 * expectedAccuracy, breakdown);
    }
}
