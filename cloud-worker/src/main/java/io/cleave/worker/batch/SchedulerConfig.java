package io.cleave.worker.batch;

/**
 * @param maxBatch most samples run together through one block
 * @param queueCapacity most jobs waiting across all block queues; beyond it submit fails fast
 * @param batchWaitNanos how long the loop may hold a non-full batch for more arrivals, and only
 *     while no job in it would then be predicted to miss its deadline; 0 never waits
 * @param admissionControl reject at submit a job predicted to miss its deadline at its first exit
 */
public record SchedulerConfig(int maxBatch, int queueCapacity, long batchWaitNanos, boolean admissionControl) {
    /** Most samples per block run unless told. */
    public static final int DEFAULT_MAX_BATCH = 16;
    /** Most queued jobs unless told. */
    public static final int DEFAULT_QUEUE_CAPACITY = 512;

    public SchedulerConfig {
        if (maxBatch < 1 || queueCapacity < 1 || batchWaitNanos < 0) {
            throw new IllegalArgumentException("maxBatch and queueCapacity must be >= 1, batchWaitNanos >= 0");
        }
    }

    public static SchedulerConfig defaults() {
        return new SchedulerConfig(DEFAULT_MAX_BATCH, DEFAULT_QUEUE_CAPACITY, 0, true);
    }

    public SchedulerConfig withMaxBatch(int n) {
        return new SchedulerConfig(n, queueCapacity, batchWaitNanos, admissionControl);
    }

    public SchedulerConfig withQueueCapacity(int n) {
        return new SchedulerConfig(maxBatch, n, batchWaitNanos, admissionControl);
    }

    public SchedulerConfig withAdmissionControl(boolean on) {
        return new SchedulerConfig(maxBatch, queueCapacity, batchWaitNanos, on);
    }
}
