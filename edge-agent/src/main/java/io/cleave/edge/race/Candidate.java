package io.cleave.edge.race;

/**
 * One exit's result, local or from the cloud.
 *
 * @param arrivedNanos clock time it became available at the edge
 * @param server the worker's timing breakdown for a cloud result, null for a local one
 */
public record Candidate(int exit, int block, float[] probabilities, int predictedClass, float confidence, boolean cloud,
        long arrivedNanos, ServerTiming server) {

    public Candidate(int exit, int block, float[] probabilities, int predictedClass, float confidence, boolean cloud, long arrivedNanos) {
        this(exit, block, probabilities, predictedClass, confidence, cloud, arrivedNanos, null);
    }

    /** Where a cloud result's time went on the worker. */
    public record ServerTiming(long receiveNanos, long queueNanos, long computeNanos, int maxBatch) {}
}
