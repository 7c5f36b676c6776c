package io.cleave.edge.race;

/**
 * One exit's result, local or from the cloud.
 *
 * @param arrivedNanos clock time it became available at the edge
 */
public record Candidate(int exit, int block, float[] probabilities, int predictedClass, float confidence, boolean cloud,
        long arrivedNanos) {}
