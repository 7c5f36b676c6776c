package io.cleave.worker;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.ExecutionTarget;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.metrics.Metrics;
import io.cleave.core.metrics.RpcMetrics;
import io.cleave.core.net.DataPlane;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.time.NanoClock;
import io.cleave.worker.batch.LayerScheduler;
import io.cleave.worker.rpc.InferenceService;
import io.cleave.core.server.ServerLifecycle;
import io.cleave.core.server.ServerLimits;
import io.cleave.core.server.StreamGuard;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running cloud worker: engine, scheduler, gRPC server with health. Wires its objects once. The
 * server comes from the {@link ServerBuilder} it is given: {@link #netty(WorkerConfig)} in
 * production, an in-process one in tests; either way it gets the worker's message limit and
 * executor. Shutdown is {@link ServerLifecycle}'s sequence.
 */
public final class WorkerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);
    /** Health service name of the inference service. */
    public static final String SERVICE = "cleave.v1.InferenceWorker";
    /** Coordinator heartbeat period. */
    public static final long HEARTBEAT_PERIOD_MILLIS = 500;
    /** Calibration rounds of the scheduler's compute profile before taking traffic. */
    static final int CALIBRATION_ROUNDS = 3;

    private final LayerScheduler scheduler;
    private final ServerLifecycle lifecycle;
    private final Metrics metrics = new Metrics();
    private final ExecutionTarget target;
    private InetSocketAddress metricsAddress; // null: no endpoint
    private InetSocketAddress healthAddress; // null: no health-only port

    private WorkerServer(WorkerConfig config, ServerBuilder<?> transport) throws IOException {
        lifecycle = new ServerLifecycle(SERVICE, Duration.ofMillis(config.shutdownGraceMillis()));
        try {
            ModelPack pack = ModelPack.load(config.pack());
            SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(config.threads()).withDevice(config.device()).withoutProbes());
            target = engine.target();
            Gauge.builder("cleave.worker.info", () -> 1).description("The device and ONNX Runtime execution provider this worker's engine runs on")
                    .tag("device", target.device()).tag("provider", target.provider()).register(metrics.registry());
            scheduler = new LayerScheduler(engine, config.scheduler(), NanoClock.SYSTEM);
            lifecycle.thenRelease(scheduler).thenRelease(engine).thenRelease(metrics); // the loop stops before the engine it computes on closes
            scheduler.calibrate(CALIBRATION_ROUNDS);
            scheduler.measureInto(metrics.registry()); // traffic only: calibration runs are not served requests
            scheduler.start();
            long maxPayload = config.maxMessageBytes() * 64L;
            Server server = lifecycle.start(transport
                    .addService(new InferenceService(pack, scheduler, NanoClock.SYSTEM, maxPayload, target).definition())
                    .maxInboundMessageSize(config.maxMessageBytes())
                    .intercept(new RpcMetrics(metrics.registry()))
                    // handlers only validate, copy bytes and enqueue: run them on the transport thread, no hand-off
                    .directExecutor());
            if (config.coordinator() != null) {
                String advertise = config.advertise() != null ? config.advertise() : config.host() + ":" + server.getPort();
                lifecycle.withdrawFirst(new CoordinatorHeartbeat(config.coordinator(), config.tls(), advertise, pack, scheduler, HEARTBEAT_PERIOD_MILLIS));
            }
            if (config.metricsPort() != Metrics.OFF) {
                metricsAddress = metrics.serve(config.host(), config.metricsPort());
            }
            if (config.healthPort() != Metrics.OFF) {
                healthAddress = lifecycle.serveHealth(config.host(), config.healthPort());
            }
            log.info("worker serving {} on {}:{}, engine on {}", pack, config.host(), port(), target);
        } catch (IOException | RuntimeException e) {
            lifecycle.close();
            throw e;
        }
    }

    /** A worker on Netty at the configured host and port. */
    public static WorkerServer start(WorkerConfig config) throws IOException {
        return start(config, netty(config));
    }

    /** A worker on {@code transport}: Netty from {@link #netty(WorkerConfig)}, or in-process in tests. */
    public static WorkerServer start(WorkerConfig config, ServerBuilder<?> transport) throws IOException {
        return new WorkerServer(config, transport);
    }

    /**
     * Streams one connection may hold at once: twice the scheduler's queue capacity, and at least 1024. An edge keeps
     * all its offloads to this worker on one connection, and the worker's queue may legitimately hold that many of them
     * (plus those still arriving or being answered); a call past the server's limit waits in the client's stream
     * buffer instead, where {@code StreamSlotReuseTest} saw a call started right after cancellations stay until its
     * deadline. Admission ({@code LayerScheduler}'s queue bound) is what refuses overload, with RESOURCE_EXHAUSTED.
     */
    static int maxCallsPerConnection(WorkerConfig config) {
        return Math.max(1024, 2 * config.scheduler().queueCapacity());
    }

    /** The production transport: Netty on the configured address, with {@link ServerLimits} and the data plane's flow-control window. */
    public static NettyServerBuilder netty(WorkerConfig config) {
        StreamGuard guard = new StreamGuard(config.maxOpenCalls(), Duration.ofMillis(config.streamIdleMillis()));
        return ServerLimits.netty(new InetSocketAddress(config.host(), config.port()), maxCallsPerConnection(config), config.tls(), guard)
                .flowControlWindow(DataPlane.FLOW_CONTROL_WINDOW);
    }

    /** The bound port; -1 in-process. */
    public int port() {
        return lifecycle.port();
    }

    /** Where the Prometheus endpoint serves {@link Metrics#PATH}; null without one. */
    public InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    /** Where the plaintext health-only port listens; null without one. */
    public InetSocketAddress healthAddress() {
        return healthAddress;
    }

    /** The device and ONNX Runtime execution provider the engine runs on ({@code --device} resolved). */
    public ExecutionTarget target() {
        return target;
    }

    public Metrics metrics() {
        return metrics;
    }

    public LayerScheduler scheduler() {
        return scheduler;
    }

    public void awaitTermination() throws InterruptedException {
        lifecycle.awaitTermination();
    }

    /** {@link ServerLifecycle}'s sequence: NOT_SERVING, the coordinator told that this worker is draining (its edges move at their next ask), stop accepting, drain for the grace period, stop hard, release. */
    @Override
    public void close() {
        lifecycle.close();
    }
}
