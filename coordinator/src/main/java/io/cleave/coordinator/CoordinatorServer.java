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

    private CoordinatorServer(String host, int port, long periodMillis) throws IOException {
        registry = new WorkerRegistry(NanoClock.SYSTEM, TimeUnit.MILLISECONDS.toNanos(periodMillis));
        server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addService(new CoordinatorService(registry))
                .addService(health.getHealthService())
                .build()
                .start();
        health.setStatus(SERVICE, ServingStatus.SERVING);
        health.setStatus("", ServingStatus.SERVING);
    }

    public static CoordinatorServer start(String host, int port, long heartbeatPeriodMillis) throws IOException {
        return new CoordinatorServer(host, port, heartbeatPeriodMillis);
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
            if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
