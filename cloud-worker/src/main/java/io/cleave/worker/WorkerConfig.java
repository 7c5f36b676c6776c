package io.cleave.worker;

import io.cleave.worker.batch.SchedulerConfig;
import java.nio.file.Path;

/**
 * Everything a worker process needs, immutable. Built by the launcher with the precedence
 * defaults &lt; environment (CLEAVE_WORKER_*) &lt; command line.
 *
 * @param port 0 picks a free port (printed at start-up)
 * @param threads ONNX Runtime intra-op threads
 * @param maxMessageBytes largest inbound gRPC message
 * @param coordinator coordinator host:port to heartbeat to, or null
 * @param advertise host:port edges use to reach this worker (default: host and the bound port)
 */
public record WorkerConfig(Path pack, String host, int port, int threads, SchedulerConfig scheduler, int maxMessageBytes,
        long shutdownGraceMillis, String coordinator, String advertise) {

    public WorkerConfig(Path pack, String host, int port, int threads, SchedulerConfig scheduler, int maxMessageBytes,
            long shutdownGraceMillis) {
        this(pack, host, port, threads, scheduler, maxMessageBytes, shutdownGraceMillis, null, null);
    }
}
