package io.cleave.coordinator;

import io.cleave.core.time.NanoClock;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A running coordinator: registry and gRPC server with health. Off the data path. */
public final class CoordinatorServer implements AutoCloseable {
    public static final String SERVICE = "cleave.v1.Coordinator";

    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;
    private final WorkerRegistry registry;

    private final CoordinatorConfig config;

    private CoordinatorServer(CoordinatorConfig config) throws IOException {
        this.config = config;
        registry = new WorkerRegistry(NanoClock.SYSTEM, TimeUnit.MILLISECONDS.toNanos(config.heartbeatPeriodMillis()));
        server = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
                .addService(new CoordinatorService(registry))
                .addService(health.getHealthService())
                .build()
                .start();
        health.setStatus(SERVICE, ServingStatus.SERVING);
        health.setStatus("", ServingStatus.SERVING);
    }

    public static CoordinatorServer start(CoordinatorConfig config) throws IOException {
        return new CoordinatorServer(config);
    }

    public int port() {
        return server.getPort();
    }

    public WorkerRegistry registry() {
        return registry;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(config.shutdownGraceMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
