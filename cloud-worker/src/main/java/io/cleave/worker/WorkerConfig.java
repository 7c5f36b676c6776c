package io.cleave.worker;

import io.cleave.core.engine.ComputeDevice;
import io.cleave.core.security.Tls;
import io.cleave.core.server.ServerLimits;
import io.cleave.core.metrics.Metrics;
import io.cleave.worker.batch.SchedulerConfig;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything a worker process needs, immutable. Built by the launcher with the precedence
 * defaults &lt; environment (CLEAVE_WORKER_*) &lt; command line; in code, with {@link #builder(Path)},
 * whose defaults are the named constants below (the command line shows the same ones).
 *
 * @param host bind address
 * @param port 0 picks a free port (printed at start-up)
 * @param threads ONNX Runtime intra-op threads
 * @param scheduler the layer-wise scheduler's batch, queue and admission settings
 * @param maxMessageBytes largest inbound gRPC message
 * @param shutdownGraceMillis how long streams in flight may run on after shutdown begins
 * @param coordinator coordinator host:port to heartbeat to, or null
 * @param advertise host:port edges use to reach this worker (default: host and the bound port)
 * @param metricsPort port of the Prometheus endpoint ({@code /metrics}) on {@code host}; 0 picks a free one;
 *     {@link Metrics#OFF}: none (the builder's default)
 * @param tls mutual TLS with the other Cleave components ({@link Tls#PLAINTEXT}: none, the builder's default)
 * @param maxOpenCalls most inference, probe and describe calls open at once over all connections; each may hold up to
 *     {@code maxMessageBytes} of an unfinished message and one payload being assembled
 * @param streamIdleMillis a call the worker waits on must deliver its next message within this, or it is closed
 * @param device where the engine runs: {@code cpu} (the default), {@code cuda:N} or {@code auto} ({@link ComputeDevice})
 * @param healthPort port of a plaintext health-only gRPC server on {@code host}, for probes without TLS; 0 picks a free
 *     one; {@link Metrics#OFF}: none (the builder's default)
 */
public record WorkerConfig(Path pack, String host, int port, int threads, SchedulerConfig scheduler, int maxMessageBytes,
        long shutdownGraceMillis, String coordinator, String advertise, int metricsPort, Tls tls, int maxOpenCalls,
        long streamIdleMillis, ComputeDevice device, int healthPort) {
    /** Bind address unless told: loopback only. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Port unless told: a free one. */
    public static final int DEFAULT_PORT = 0;
    /** ONNX Runtime intra-op threads unless told. */
    public static final int DEFAULT_THREADS = 1;
    /** Largest inbound gRPC message unless told: 1 MiB, well above one chunk of a payload stream. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
    /** Drain bound on shutdown: room for a full queue of requests with deadlines of a few seconds. */
    public static final long DEFAULT_SHUTDOWN_GRACE_MILLIS = 5_000;

    /**
     * Calls open at once unless told: a full default queue twice over, what one edge connection may hold
     * ({@code WorkerServer.maxCallsPerConnection}); a worker given a larger queue needs a larger bound too.
     */
    public static final int DEFAULT_MAX_OPEN_CALLS = 1024;
    /** Idle limit for a stream unless told: {@link ServerLimits#STREAM_IDLE}. */
    public static final long DEFAULT_STREAM_IDLE_MILLIS = ServerLimits.STREAM_IDLE_MILLIS;
    /** Device unless told: the CPU, as before {@code --device} existed. */
    public static final String DEFAULT_DEVICE = "cpu";

    public WorkerConfig {
        Objects.requireNonNull(pack, "pack");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(device, "device");
        Metrics.checkPort(metricsPort, "metricsPort");
        Metrics.checkPort(healthPort, "healthPort");
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes must be positive, got " + maxMessageBytes);
        }
        if (maxOpenCalls < 1 || streamIdleMillis < 1) {
            throw new IllegalArgumentException("maxOpenCalls and streamIdleMillis must be positive, got " + maxOpenCalls + " and "
                    + streamIdleMillis);
        }
    }

    /** A builder for the pack at {@code pack}, every other field at its default. */
    public static Builder builder(Path pack) {
        return new Builder(pack);
    }

    /** Builds a {@link WorkerConfig}. */
    public static final class Builder {
        private final Path pack;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private int threads = DEFAULT_THREADS;
        private SchedulerConfig scheduler = SchedulerConfig.defaults();
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
        private long shutdownGraceMillis = DEFAULT_SHUTDOWN_GRACE_MILLIS;
        private String coordinator;
        private String advertise;
        private int metricsPort = Metrics.OFF;
        private int healthPort = Metrics.OFF;
        private Tls tls = Tls.PLAINTEXT;
        private int maxOpenCalls = DEFAULT_MAX_OPEN_CALLS;
        private long streamIdleMillis = DEFAULT_STREAM_IDLE_MILLIS;
        private ComputeDevice device = ComputeDevice.parse(DEFAULT_DEVICE);

        private Builder(Path pack) {
            this.pack = pack;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder scheduler(SchedulerConfig scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        public Builder maxMessageBytes(int bytes) {
            this.maxMessageBytes = bytes;
            return this;
        }

        public Builder shutdownGraceMillis(long millis) {
            this.shutdownGraceMillis = millis;
            return this;
        }

        public Builder coordinator(String coordinator) {
            this.coordinator = coordinator;
            return this;
        }

        public Builder advertise(String advertise) {
            this.advertise = advertise;
            return this;
        }

        /** The Prometheus endpoint's port on the worker's host (0: a free one; {@link Metrics#OFF}: none). */
        public Builder metricsPort(int port) {
            this.metricsPort = port;
            return this;
        }

        /** Mutual TLS: served to edges, and presented to the coordinator. */
        public Builder tls(Tls tls) {
            this.tls = tls;
            return this;
        }

        /** Most calls open at once, over all connections. */
        public Builder maxOpenCalls(int calls) {
            this.maxOpenCalls = calls;
            return this;
        }

        /** How long a call the worker waits on may send nothing. */
        public Builder streamIdleMillis(long millis) {
            this.streamIdleMillis = millis;
            return this;
        }

        /** Where the engine runs. */
        public Builder device(ComputeDevice device) {
            this.device = device;
            return this;
        }

        /** The plaintext health-only port on the worker's host (0: a free one; {@link Metrics#OFF}: none). */
        public Builder healthPort(int port) {
            this.healthPort = port;
            return this;
        }

        public WorkerConfig build() {
            return new WorkerConfig(pack, host, port, threads, scheduler, maxMessageBytes, shutdownGraceMillis, coordinator, advertise,
                    metricsPort, tls, maxOpenCalls, streamIdleMillis, device, healthPort);
        }
    }
}
