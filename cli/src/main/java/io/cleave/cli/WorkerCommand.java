package io.cleave.cli;

import io.cleave.core.engine.ComputeDevice;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import io.cleave.worker.batch.SchedulerConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs a cloud worker until interrupted. */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run a cloud worker: deeper blocks and exits for streams entering at any split, layer-wise batched.")
final class WorkerCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions;

    @Option(names = "--host", defaultValue = "${env:CLEAVE_WORKER_HOST:-" + WorkerConfig.DEFAULT_HOST + "}",
            description = "bind address (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_HOST)")
    String host;

    @Option(names = "--port", defaultValue = "${env:CLEAVE_WORKER_PORT:-" + WorkerConfig.DEFAULT_PORT + "}",
            description = "port; 0 picks a free one (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_PORT)")
    int port;

    @Option(names = "--max-batch", defaultValue = "${env:CLEAVE_WORKER_MAX_BATCH:-" + SchedulerConfig.DEFAULT_MAX_BATCH + "}",
            description = "largest batch per block (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_MAX_BATCH)")
    int maxBatch;

    @Option(names = "--queue", defaultValue = "${env:CLEAVE_WORKER_QUEUE:-" + SchedulerConfig.DEFAULT_QUEUE_CAPACITY + "}",
            description = "queue capacity (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_QUEUE)")
    int queue;

    @Option(names = "--no-admission", defaultValue = "${env:CLEAVE_WORKER_NO_ADMISSION:-false}", arity = "0..1", fallbackValue = "true",
            paramLabel = "true|false", description = "accept requests even when predicted to miss their deadline "
                    + "(default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_NO_ADMISSION)")
    boolean noAdmission;

    @Option(names = "--max-message-bytes", defaultValue = "${env:CLEAVE_WORKER_MAX_MESSAGE_BYTES:-" + WorkerConfig.DEFAULT_MAX_MESSAGE_BYTES + "}",
            description = "largest inbound gRPC message (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_MAX_MESSAGE_BYTES)")
    int maxMessageBytes;

    @Option(names = "--max-open-calls", defaultValue = "${env:CLEAVE_WORKER_MAX_OPEN_CALLS:-" + WorkerConfig.DEFAULT_MAX_OPEN_CALLS + "}",
            description = "most calls open at once over all connections; each may buffer up to --max-message-bytes of an unfinished"
                    + " message plus one payload, and calls past it get RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}; "
                    + "env CLEAVE_WORKER_MAX_OPEN_CALLS)")
    int maxOpenCalls;

    @Option(names = "--stream-idle-ms", defaultValue = "${env:CLEAVE_WORKER_STREAM_IDLE_MS:-" + WorkerConfig.DEFAULT_STREAM_IDLE_MILLIS + "}",
            description = "a stream that sends nothing for this long while the worker waits on it is closed with DEADLINE_EXCEEDED"
                    + " and its buffers freed (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_STREAM_IDLE_MS)")
    long streamIdleMillis;

    @Option(names = "--device", paramLabel = "cpu|cuda[:N]|auto", defaultValue = "${env:CLEAVE_WORKER_DEVICE:-" + WorkerConfig.DEFAULT_DEVICE + "}",
            description = "where the engine runs: cpu; cuda or cuda:N, ONNX Runtime's CUDA execution provider on GPU N (needs a build "
                    + "with -Pgpu and CUDA 12 + cuDNN 9; refuses to start without them); auto, CUDA where it loads, else the CPU with "
                    + "one warning (default: ${DEFAULT-VALUE}; env CLEAVE_WORKER_DEVICE)")
    String device;

    @Option(names = "--coordinator", defaultValue = "${env:CLEAVE_COORDINATOR}",
            description = "coordinator host:port to heartbeat to; comma-separated replicas each get every heartbeat "
                    + "(default: none; env CLEAVE_COORDINATOR)")
    String coordinator;

    @Option(names = "--advertise", defaultValue = "${env:CLEAVE_WORKER_ADVERTISE}",
            description = "host:port edges should use to reach this worker (default: --host and the bound port; "
                    + "env CLEAVE_WORKER_ADVERTISE)")
    String advertise;

    @Mixin
    MetricsOptions metrics;

    @Mixin
    HealthPortOptions health = new HealthPortOptions();

    @Mixin
    TlsOptions tlsOptions;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Mixin LogOptions logs = new LogOptions();

    @Override
    public Integer call() throws Exception {
        if (config.printIfAsked(spec)) {
            return 0;
        }
        logs.apply();
        if (maxBatch < 1 || queue < 1) {
            throw new IllegalArgumentException(maxBatch < 1 ? "--max-batch must be at least 1, got " + maxBatch
                    : "--queue must be at least 1, got " + queue);
        }
        if (maxOpenCalls < 1 || streamIdleMillis < 1) {
            throw new IllegalArgumentException(maxOpenCalls < 1 ? "--max-open-calls must be at least 1, got " + maxOpenCalls
                    : "--stream-idle-ms must be at least 1, got " + streamIdleMillis);
        }
        if (coordinator != null) {
            io.cleave.core.net.HostPort.parseList(coordinator, "--coordinator");
        }
        ComputeDevice on = ComputeDevice.parse(device);
        SchedulerConfig sc = SchedulerConfig.defaults().withMaxBatch(maxBatch).withQueueCapacity(queue).withAdmissionControl(!noAdmission);
        WorkerConfig cfg = WorkerConfig.builder(packOptions.pack()).host(host).port(port).threads(packOptions.threads).scheduler(sc)
                .maxMessageBytes(maxMessageBytes).maxOpenCalls(maxOpenCalls).streamIdleMillis(streamIdleMillis).coordinator(coordinator).advertise(advertise)
                .metricsPort(metrics.port(MetricsOptions.WORKER_PORT)).healthPort(health.port()).tls(tlsOptions.tls("worker")).device(on).build();
        tlsOptions.requireChoice("worker", host);
        WorkerServer server = WorkerServer.start(cfg);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "cleave-worker-shutdown"));
        // the line tests and scripts wait for: the real port when 0 was asked for
        MetricsOptions.announce("worker", server.metricsAddress());
        HealthPortOptions.announce("worker", server.healthAddress());
        System.out.println("cleave worker listening on " + host + ":" + server.port() + " (" + TlsOptions.describe(cfg.tls()) + "; engine on "
                + server.target() + ")");
        System.out.flush();
        server.awaitTermination();
        return 0;
    }
}
