package io.cleave.worker;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.net.DataPlane;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.time.NanoClock;
import io.cleave.worker.batch.LayerScheduler;
import io.cleave.worker.rpc.InferenceService;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running cloud worker: engine, scheduler, gRPC server with health. Wires its objects once. */
public final class WorkerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);
    /** Health service name of the inference service. */
    public static final String SERVICE = "cleave.v1.InferenceWorker";

    private final WorkerConfig config;
    private final SegmentEngine engine;
    private final LayerScheduler scheduler;
    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;
    private final CoordinatorHeartbeat heartbeat;

    private WorkerServer(WorkerConfig config) throws IOException {
        this.config = config;
        ModelPack pack = ModelPack.load(config.pack());
        engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(config.threads()));
        scheduler = new LayerScheduler(engine, config.scheduler(), NanoClock.SYSTEM);
        scheduler.calibrate(3);
        scheduler.start();
        long maxPayload = config.maxMessageBytes() * 64L;
        server = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
                .addService(new InferenceService(pack, scheduler, NanoClock.SYSTEM, maxPayload).definition())
                .addService(health.getHealthService())
                .maxInboundMessageSize(config.maxMessageBytes())
                .flowControlWindow(DataPlane.FLOW_CONTROL_WINDOW)
                // handlers only validate, copy bytes and enqueue: run them on the transport thread, no hand-off
                .directExecutor()
                .build()
                .start();
        health.setStatus(SERVICE, ServingStatus.SERVING);
        health.setStatus("", ServingStatus.SERVING);
        heartbeat = config.coordinator() == null ? null : new CoordinatorHeartbeat(config.coordinator(),
                config.advertise() != null ? config.advertise() : config.host() + ":" + server.getPort(), pack, scheduler, 500);
        log.info("worker serving {} on {}:{}", pack, config.host(), port());
    }

    public static WorkerServer start(WorkerConfig config) throws IOException {
        return new WorkerServer(config);
    }

    public int port() {
        return server.getPort();
    }

    public LayerScheduler scheduler() {
        return scheduler;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** NOT_SERVING, drain for the grace period, then stop hard. */
    @Override
    public void close() {
        if (heartbeat != null) {
            heartbeat.close();
        }
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(config.shutdownGraceMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(1, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        scheduler.close();
        engine.close();
    }
}
