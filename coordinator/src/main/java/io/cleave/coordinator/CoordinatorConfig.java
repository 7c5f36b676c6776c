package io.cleave.coordinator;

import io.cleave.core.security.Tls;
import io.cleave.core.metrics.Metrics;

/**
 * Everything a coordinator process needs, immutable. Build one with {@link #builder()}; the
 * defaults are the named constants below, the same ones the command line shows.
 *
 * @param host bind address
 * @param port 0 picks a free port
 * @param heartbeatPeriodMillis how often workers are expected to heartbeat; 3 missed periods drain a worker
 * @param shutdownGraceMillis how long calls in flight may run on after shutdown begins
 * @param metricsPort port of the Prometheus endpoint ({@code /metrics}) on {@code host}; 0 picks a free one;
 *     {@link Metrics#OFF}: none (the builder's default)
 * @param maxWorkers most live workers the registry holds; a new worker past it is refused
 * @param tls mutual TLS with the other Cleave components ({@link Tls#PLAINTEXT}: none, the builder's default)
 * @param healthPort port of a plaintext health-only gRPC server on {@code host}, for probes without TLS; 0 picks a free
 *     one; {@link Metrics#OFF}: none (the builder's default)
 */
public record CoordinatorConfig(String host, int port, long heartbeatPeriodMillis, long shutdownGraceMillis, int metricsPort,
        int maxWorkers, Tls tls, int healthPort) {
    /** Bind address unless told: loopback only. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Port unless told: a free one. */
    public static final int DEFAULT_PORT = 0;
    /** Heartbeat period unless told: a dead worker is drained within 1.5 s. */
    public static final long DEFAULT_HEARTBEAT_PERIOD_MILLIS = 500;
    /** Drain bound on shutdown: the coordinator's calls are small unary ones with 1 s deadlines. */
    public static final long DEFAULT_SHUTDOWN_GRACE_MILLIS = 2_000;
    /** Registry bound unless told: far above a deployment's workers, a few MB at most (fields are bounded too). */
    public static final int DEFAULT_MAX_WORKERS = 1024;

    public CoordinatorConfig {
        if (heartbeatPeriodMillis <= 0) {
            throw new IllegalArgumentException("heartbeat period must be positive, got " + heartbeatPeriodMillis + " ms");
        }
        Metrics.checkPort(metricsPort, "metricsPort");
        Metrics.checkPort(healthPort, "healthPort");
        java.util.Objects.requireNonNull(tls, "tls");
        if (maxWorkers < 1) {
            throw new IllegalArgumentException("maxWorkers must be >= 1, got " + maxWorkers);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link CoordinatorConfig}. */
    public static final class Builder {
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private long heartbeatPeriodMillis = DEFAULT_HEARTBEAT_PERIOD_MILLIS;
        private long shutdownGraceMillis = DEFAULT_SHUTDOWN_GRACE_MILLIS;
        private int metricsPort = Metrics.OFF;
        private Tls tls = Tls.PLAINTEXT;
        private int maxWorkers = DEFAULT_MAX_WORKERS;
        private int healthPort = Metrics.OFF;

        private Builder() {}

        /** The Prometheus endpoint's port on the coordinator's host (0: a free one; {@link Metrics#OFF}: none). */
        public Builder metricsPort(int port) {
            this.metricsPort = port;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder heartbeatPeriodMillis(long millis) {
            this.heartbeatPeriodMillis = millis;
            return this;
        }

        public Builder shutdownGraceMillis(long millis) {
            this.shutdownGraceMillis = millis;
            return this;
        }

        public Builder maxWorkers(int maxWorkers) {
            this.maxWorkers = maxWorkers;
            return this;
        }

        /** Mutual TLS, and each call checked against the caller's role. */
        public Builder tls(Tls tls) {
            this.tls = tls;
            return this;
        }

        /** The plaintext health-only port on the coordinator's host (0: a free one; {@link Metrics#OFF}: none). */
        public Builder healthPort(int port) {
            this.healthPort = port;
            return this;
        }

        public CoordinatorConfig build() {
            return new CoordinatorConfig(host, port, heartbeatPeriodMillis, shutdownGraceMillis, metricsPort, maxWorkers, tls, healthPort);
        }
    }
}
