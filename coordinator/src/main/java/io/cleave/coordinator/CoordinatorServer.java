package io.cleave.coordinator;

import io.cleave.core.metrics.Metrics;
import io.cleave.core.metrics.RpcMetrics;
import io.cleave.core.server.ServerLifecycle;
import io.cleave.core.server.ServerLimits;
import io.micrometer.core.instrument.Gauge;
import io.cleave.core.time.NanoClock;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A running coordinator: registry and gRPC server with health. Off the data path. The server
 * comes from the {@link ServerBuilder} it is given ({@link #netty(CoordinatorConfig)} in
 * production, in-process in tests); shutdown is {@link ServerLifecycle}'s sequence.
 */
public final class CoordinatorServer implements AutoCloseable {
    public static final String SERVICE = "cleave.v1.Coordinator";
    /** Largest inbound message: a heartbeat at its bounds (4096 profile entries, 255-character fields) is under 100 KiB. */
    public static final int MAX_MESSAGE_BYTES = 256 << 10;

    private final ServerLifecycle lifecycle;
    private final WorkerRegistry registry;
    private final Metrics metrics = new Metrics();
    private final InetSocketAddress metricsAddress; // null: no endpoint
    private final InetSocketAddress healthAddress; // null: no health-only port

    private CoordinatorServer(CoordinatorConfig config, ServerBuilder<?> transport) throws IOException {
        registry = new WorkerRegistry(NanoClock.SYSTEM, TimeUnit.MILLISECONDS.toNanos(config.heartbeatPeriodMillis()),
                config.maxWorkers());
        Gauge.builder("cleave.coordinator.live.workers", registry::liveCount).description("Workers whose heartbeats are current")
                .register(metrics.registry());
        lifecycle = new ServerLifecycle(SERVICE, Duration.ofMillis(config.shutdownGraceMillis()));
        lifecycle.thenRelease(metrics);
        try {
            lifecycle.start(transport.addService(new CoordinatorService(registry)).intercept(new RpcMetrics(metrics.registry()))
                    .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                    // handlers check a message and read or update the in-memory registry under its lock, never block: run
                    // them on the transport thread (the default executor's hand-off per call cost more than the call)
                    .directExecutor());
            metricsAddress = config.metricsPort() == Metrics.OFF ? null : metrics.serve(config.host(), config.metricsPort());
            healthAddress = config.healthPort() == Metrics.OFF ? null : lifecycle.serveHealth(config.host(), config.healthPort());
        } catch (IOException | RuntimeException e) {
            lifecycle.close();
            throw e;
        }
    }

    /** Where the Prometheus endpoint serves {@link Metrics#PATH}; null without one. */
    public InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    /** Where the plaintext health-only port listens; null without one. */
    public InetSocketAddress healthAddress() {
        return healthAddress;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** A coordinator on Netty at the configured host and port. */
    public static CoordinatorServer start(CoordinatorConfig config) throws IOException {
        return start(config, netty(config));
    }

    /** A coordinator on {@code transport}: Netty from {@link #netty(CoordinatorConfig)}, or in-process in tests. */
    public static CoordinatorServer start(CoordinatorConfig config, ServerBuilder<?> transport) throws IOException {
        return new CoordinatorServer(config, transport);
    }

    /** The production transport: Netty on the configured address, with {@link ServerLimits}. */
    public static NettyServerBuilder netty(CoordinatorConfig config) {
        return ServerLimits.netty(new InetSocketAddress(config.host(), config.port()), ServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION, config.tls());
    }

    /** The bound port; -1 in-process. */
    public int port() {
        return lifecycle.port();
    }

    public WorkerRegistry registry() {
        return registry;
    }

    public void awaitTermination() throws InterruptedException {
        lifecycle.awaitTermination();
    }

    /** {@link ServerLifecycle}'s sequence: NOT_SERVING, drain for the grace period, stop hard. */
    @Override
    public void close() {
        lifecycle.close();
    }
}
