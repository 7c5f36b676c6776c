package io.cleave.edge;

import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.metrics.Metrics;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.net.HostPort;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.cloud.AssignmentFollower;
import io.cleave.edge.cloud.GrpcCloudPath;
import io.cleave.edge.image.ImageIntake;
import io.cleave.edge.local.LocalPipeline;
import io.cleave.edge.race.DeadlineTimer;
import io.cleave.edge.cloud.WorkerClient;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.plan.Policy;
import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.edge.measure.LinkProber;
import io.cleave.edge.plan.AdaptivePlanner;
import io.cleave.edge.plan.FixedPlanner;
import io.cleave.edge.plan.Planner;
import io.cleave.edge.rpc.EdgeService;
import io.cleave.core.server.ServerLifecycle;
import io.cleave.core.server.ServerLimits;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An edge agent process: engine over the first k_max blocks, worker channels, the agent, and
 * (when given a {@link ServerBuilder}) its gRPC API with health. Wires its objects once. The API's
 * server comes from {@link #netty(EdgeConfig)} in production, in-process in tests; either way it
 * gets the edge's message limit and handler pool. Shutdown is {@link ServerLifecycle}'s sequence.
 */
public final class EdgeServer implements AutoCloseable {
    public static final String SERVICE = "cleave.v1.EdgeAgent";
    /**
     * Streams one device connection may hold at once: more than {@link ServerLimits}' 64, since a device app may fire a
     * burst of concurrent requests and admission must refuse what does not fit at once, not have the connection queue it.
     */
    static final int MAX_CALLS_PER_CONNECTION = 4096;
    /** Local passes before taking traffic (JIT, ONNX Runtime, measurement calibration). */
    static final int WARM_UP_ROUNDS = 50;

    private final EdgeConfig config;
    private final SegmentEngine engine;
    private final WorkerClient workers;
    private final LocalPipeline local;
    private final GrpcCloudPath cloud;
    private final DeadlineTimer deadlines;
    private final ExecutorService answers; // hands deadline answers to callers
    private final ScheduledExecutorService control; // probes and assignments: never the deadline thread
    private final EdgeAgent agent;
    private final ImageIntake intake;
    /** Decodes of a 640x480 JPEG and PNG each before traffic, when warming up: about as many as the JIT took here to settle. */
    static final int IMAGE_WARM_UP_ROUNDS = 15;
    private final ServerLifecycle lifecycle;
    private EdgeMeasurements measurements;
    private AdaptivePlanner adaptive;
    private LinkProber prober;
    private final AssignmentFollower follower;
    private final Metrics metrics;
    private final InetSocketAddress metricsAddress; // null: no endpoint
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EdgeServer.class);

    private EdgeServer(EdgeConfig config, Planner planner, ServerBuilder<?> transport) throws IOException {
        this.config = config;
        // what start-up has built so far, released in reverse if it fails before the lifecycle owns them (a bad
        // coordinator target, an unreadable encodings.json, a warm-up failure must not leak ONNX Runtime sessions and threads)
        java.util.Deque<AutoCloseable> built = new java.util.ArrayDeque<>();
        try {
            ModelPack pack = ModelPack.load(config.pack());
            engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(config.threads()).withMaxBlock(config.kMax()));
            built.push(engine);
            workers = new WorkerClient(config.workers(), config.via() == null ? null : HostPort.parse(config.via(), "--via"), config.tls());
            built.push(workers);
            try {
                int ready = workers.connect(2000);
                if (ready < config.workers().size()) {
                    // not fatal: requests are answered from local exits, and the channels keep reconnecting
                    log.warn("{} of {} workers unreachable after 2 s ({}): answering from local exits until they are",
                            config.workers().size() - ready, config.workers().size(), String.join(", ", config.workers()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            local = new LocalPipeline(engine, config.concurrency(), NanoClock.SYSTEM);
            built.push(local);
            cloud = new GrpcCloudPath(workers, pack, NanoClock.SYSTEM, config.jpegQuality());
            built.push(cloud);
            deadlines = DeadlineTimer.dedicated(NanoClock.SYSTEM);
            built.push(deadlines);
            control = Executors.newSingleThreadScheduledExecutor(daemon("cleave-edge-control"));
            built.push(control::shutdownNow);
            Planner chosen = planner;
            if (!workers.isEmpty() || config.coordinator() != null) {
                // measure whenever there is a cloud to measure: plans use it, experiments compare with it
                measurements = new EdgeMeasurements(pack, engine.maxBlock(), NanoClock.SYSTEM, 0.9);
                prober = new LinkProber(workers::probeChannel, measurements, control, 250);
                built.push(prober);
                if (chosen == null && !PolicyRegistry.FIXED.equals(config.policy())) {
                    adaptive = new AdaptivePlanner(policy(config.policy(), pack, config.plan(), config.jpegQuality()), measurements, config.plan(),
                            d -> log.debug("plan {}", d));
                    chosen = adaptive;
                }
            }
            answers = Executors.newFixedThreadPool(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())),
                    daemon("cleave-edge-answers"));
            built.push(answers::shutdownNow);
            agent = new EdgeAgent(local, cloud, chosen == null ? new FixedPlanner(config.plan()) : chosen, deadlines, NanoClock.SYSTEM,
                    answers);
            agent.emulateSlowdown(config.slowdown());
            intake = new ImageIntake(agent, config.imageLimits(), NanoClock.SYSTEM);
            follower = config.coordinator() == null ? null
                    : new AssignmentFollower(config.coordinator(), config.tls(), workers, java.util.UUID.randomUUID().toString(), pack.id(), control,
                            AssignmentFollower.PERIOD_MILLIS,
                            measurements);
            if (follower != null) {
                built.push(follower);
            }
            if (measurements != null) {
                agent.measureInto(measurements);
                cloud.measureInto(measurements);
            }
            metrics = new Metrics();
            built.push(metrics);
            EdgeMetrics meters = new EdgeMetrics(metrics.registry()).describe(pack.id(), config.policy(), config.deviceLabel())
                    .gauge("cleave.edge.awaiting.first.exit", "Admitted requests whose first local exit has not come yet", "requests",
                            local::awaitingFirstExit)
                    .gauge("cleave.edge.deadline.guard", "How long before its deadline a request is answered: the deadline timer's"
                            + " guard against its own lateness", "seconds", () -> deadlines.learnedGuardNanos() / 1e9);
            if (measurements != null) {
                EdgeMeasurements m = measurements;
                meters.gauge("cleave.edge.uplink.estimate", "The planner's uplink bandwidth estimate (NaN before the first measurement)",
                        "bytes.per.second", () -> m.link().bandwidth())
                        .gauge("cleave.edge.rtt.estimate", "The planner's round-trip time estimate (NaN before the first measurement)",
                                "seconds", () -> m.link().rtt() / 1e9);
            }
            if (config.warmUpMillis() > 0) {
                agent.warmUpUntilSettled(TimeUnit.MILLISECONDS.toNanos(config.warmUpMillis()));
            } else {
                agent.warmUp(WARM_UP_ROUNDS);
            }
            intake.warmUp(config.warmUpMillis() > 0 ? IMAGE_WARM_UP_ROUNDS : 1);
            // after warm-up: a scrape shows the edge as traffic finds it
            metricsAddress = config.metricsPort() == Metrics.OFF ? null : metrics.serve(config.host(), config.metricsPort());
            lifecycle = new ServerLifecycle(SERVICE, Duration.ofMillis(config.shutdownGraceMillis()));
            built.clear(); // the lifecycle releases them from here on
            // released once the API has stopped: the control tasks, then the compute, the timers, the channels, the engine last
            if (prober != null) {
                lifecycle.thenRelease(prober);
            }
            if (follower != null) {
                lifecycle.thenRelease(follower);
            }
            ExecutorService api = transport == null ? null
                    // the device API's handlers only admit and queue (classify never blocks): a few threads, not gRPC's default
                    // pool, which starts a thread per concurrent call under a burst, on the cores compute and the deadline timer need
                    : Executors.newFixedThreadPool(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())), daemon("cleave-edge-api"));
            if (api != null) {
                lifecycle.thenRelease(api::shutdown);
            }
            lifecycle.thenRelease(local).thenRelease(control::shutdown).thenRelease(answers::shutdown).thenRelease(deadlines)
                    .thenRelease(cloud).thenRelease(workers).thenRelease(engine).thenRelease(metrics);
            if (transport != null) {
                try {
                    lifecycle.start(transport
                            .executor(api)
                            // room for the largest encoded image accepted, so that one over the limit gets the intake's clear refusal
                            .maxInboundMessageSize(config.imageLimits().maxBytes() + (1 << 20))
                            .addService(new EdgeService(agent, intake, this::uplinkMbps, config.policy(), config.deviceLabel(), meters)));
                } catch (IOException | RuntimeException e) {
                    lifecycle.close();
                    throw e;
                }
            }
        } catch (IOException | RuntimeException e) {
            while (!built.isEmpty()) {
                try {
                    built.pop().close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Starts the agent and, if {@code serve}, its gRPC API on Netty at the configured host and port. */
    public static EdgeServer start(EdgeConfig config, Planner planner, boolean serve) throws IOException {
        return start(config, planner, serve ? netty(config) : null);
    }

    /**
     * Starts the agent and, given a transport ({@link #netty(EdgeConfig)}, or in-process in tests), its gRPC API on it;
     * null: no API (an agent embedded in a command or an experiment).
     */
    public static EdgeServer start(EdgeConfig config, Planner planner, ServerBuilder<?> transport) throws IOException {
        return new EdgeServer(config, planner, transport);
    }

    /** The production transport of the device API: Netty on the configured address, with {@link ServerLimits}. */
    public static NettyServerBuilder netty(EdgeConfig config) {
        NettyServerBuilder b = ServerLimits.netty(new InetSocketAddress(config.host(), config.port()), MAX_CALLS_PER_CONNECTION);
        return config.apiToken() == null ? b : b.intercept(new io.cleave.core.security.BearerToken(config.apiToken()));
    }

    /** The named planner policy for a pack, for an edge sending JPEG input at {@code jpegQuality} (the planner reads that quality's measured cost). */
    public static Policy policy(String name, ModelPack pack, Plan fallback, int jpegQuality) {
        return PolicyRegistry.create(name, PackStats.of(pack, jpegQuality), fallback.threshold());
    }

    /** The coordinator's latest assignment, or null (no coordinator, or no answer yet). */
    public io.cleave.proto.v1.Assignment assignment() {
        return follower == null ? null : follower.last();
    }

    /** The uplink estimate now, in Mbps; NaN without a cloud or before anything was measured. */
    public double uplinkMbps() {
        EdgeMeasurements m = measurements;
        return m == null ? Double.NaN : m.link().bandwidth() * 8 / 1e6;
    }

    /** The edge's live measurements, or null without any worker or coordinator. */
    public EdgeMeasurements measurements() {
        return measurements;
    }

    /** The embedded planner, or null when the plan is fixed. */
    public AdaptivePlanner planner() {
        return adaptive;
    }

    /** Where encoded images (JPEG, PNG) enter: the gRPC API and {@code cleave edge FILE} both use it. */
    public ImageIntake intake() {
        return intake;
    }

    public EdgeAgent agent() {
        return agent;
    }

    /** Where the Prometheus endpoint serves {@link Metrics#PATH}; null without one. */
    public InetSocketAddress metricsAddress() {
        return metricsAddress;
    }

    /** This edge's meters (scraped at {@link #metricsAddress}, when it has one). */
    public Metrics metrics() {
        return metrics;
    }

    /** The API's bound port; -1 without an API or in-process. */
    public int port() {
        return lifecycle.port();
    }

    /** Blocks until the API has stopped; returns at once without one. */
    public void awaitTermination() throws InterruptedException {
        lifecycle.awaitTermination();
    }

    /** {@link ServerLifecycle}'s sequence: NOT_SERVING, drain the API for the grace period, stop hard, release. */
    @Override
    public void close() {
        lifecycle.close();
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
