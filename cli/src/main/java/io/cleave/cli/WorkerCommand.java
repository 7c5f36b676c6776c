package io.cleave.cli;

import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.cleave.worker.batch.SchedulerConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs a cloud worker until interrupted. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run a cloud worker: deeper blocks and exits for streams entering at any split, layer-wise batched.")
final class WorkerCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions;

    @Option(names = "--host", defaultValue = "${env:CLEAVE_WORKER_HOST:-127.0.0.1}", description = "bind address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "${env:CLEAVE_WORKER_PORT:-0}", description = "port; 0 picks a free one (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--max-batch", defaultValue = "${env:CLEAVE_WORKER_MAX_BATCH:-16}", description = "largest batch per block (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Option(names = "--queue", defaultValue = "${env:CLEAVE_WORKER_QUEUE:-512}", description = "queue capacity (default: ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--no-admission", description = "accept requests even when predicted to miss their deadline")
    boolean noAdmission;

    @Option(names = "--max-message-bytes", defaultValue = "1048576", description = "largest inbound gRPC message (default: ${DEFAULT-VALUE})")
    int maxMessageBytes;

    @Option(names = "--coordinator", defaultValue = "${env:CLEAVE_COORDINATOR}", description = "coordinator host:port to heartbeat to")
    String coordinator;

    @Option(names = "--advertise", defaultValue = "${env:CLEAVE_WORKER_ADVERTISE}",
            description = "host:port edges should use to reach this worker (default: --host and the bound port)")
    String advertise;

    @Override
    public Integer call() throws Exception {
        SchedulerConfig sc = SchedulerConfig.defaults().withMaxBatch(maxBatch).withQueueCapacity(queue).withAdmissionControl(!noAdmission);
        WorkerConfig cfg = new WorkerConfig(packOptions.pack(), host, port, packOptions.threads, sc, maxMessageBytes, 5000, coordinator,
                advertise);
        WorkerServer server = WorkerServer.start(cfg);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "cleave-worker-shutdown"));
        // the line tests and scripts wait for: the real port when 0 was asked for
        System.out.println("cleave worker listening on " + host + ":" + server.port());
        System.out.flush();
        server.awaitTermination();
        return 0;
    }
}
