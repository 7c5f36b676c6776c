package io.cleave.worker.batch;

/**
 * One exit's result for one job.
 *
 * @param probabilities calibrated (temperature-scaled) class probabilities
 * @param queueNanos time this job spent waiting in block queues so far
 * @param computeNanos compute charged to this job so far (a batch's time counts for each sample)
 * @param maxBatch the largest batch this job ran in
 */
public record ExitOutput(int exit, int block, float[] probabilities, int predictedClass, float confidence,
        long queueNanos, long computeNanos, int maxBatch) {}
