package io.cleave.worker.batch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * What the layer-wise scheduler reports to Prometheus; labels are bounded by the pack (segment kind
 * and index) and by the refusal reasons.
 *
 * <ul>
 *   <li>{@code cleave_worker_queued_requests}: requests waiting in block queues;
 *   <li>{@code cleave_worker_batch_requests}: the batch size of each block run (histogram);
 *   <li>{@code cleave_worker_segment_seconds{kind, index}}: compute time of each stem, block and exit run;
 *   <li>{@code cleave_worker_refused_total{reason}}: requests refused at admission (queue_full, deadline, shutting_down).
 * </ul>
 */
final class SchedulerMetrics {
    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64};
    private final MeterRegistry registry;
    private final DistributionSummary batch;

    SchedulerMetrics(MeterRegistry registry, LayerScheduler scheduler) {
        this.registry = registry;
        Gauge.builder("cleave.worker.queued", scheduler::queued).description("Requests waiting in the scheduler's block queues")
                .baseUnit("requests").register(registry);
        batch = DistributionSummary.builder("cleave.worker.batch").description("Requests batched into one block run")
                .baseUnit("requests").serviceLevelObjectives(BATCH_BUCKETS).register(registry);
    }

    void blockRun(int batchSize) {
        batch.record(batchSize);
    }

    void segment(String kind, int index, long nanos) {
        Timer.builder("cleave.worker.segment").description("Compute time of one run of a segment (stem, block or exit), whole batch")
                .tag("kind", kind).tag("index", Integer.toString(index)).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    void refused(String reason) {
        Counter.builder("cleave.worker.refused").description("Requests refused at admission, by reason")
                .tag("reason", reason).register(registry).increment();
    }
}
