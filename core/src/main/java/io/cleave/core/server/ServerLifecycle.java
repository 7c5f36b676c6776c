package io.cleave.core.server;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server's health and the one shutdown sequence of the worker, the edge and the coordinator.
 * The server is built from the {@link ServerBuilder} its owner is given (Netty on a port in
 * production, in-process in tests), with the health service added. {@link #close()} then runs:
 *
 * <ol>
 *   <li>health NOT_SERVING for every service, so that health-checking clients stop sending, and
 *       whatever advertises the server is withdrawn ({@link #withdrawFirst}: the worker's
 *       coordinator heartbeat);
 *   <li>stop accepting: new calls are refused with UNAVAILABLE;
 *   <li>drain: calls in flight run on, up to the grace period;
 *   <li>{@code shutdownNow}: what is left is cancelled, and given {@link #AFTER_CANCEL} to see it;
 *   <li>the health-only port, if any ({@link #serveHealth}), reporting NOT_SERVING until here, is closed;
 *   <li>release, in the order registered ({@link #thenRelease}): what feeds the handlers before what
 *       they compute on (the scheduler before the engine), so nothing is closed under a running call.
 * </ol>
 *
 * Without a server (an edge agent embedded in a command, no API) only the release runs. Closing
 * twice runs the sequence once: a shutdown hook and a try-with-resources may both close.
 */
public final class ServerLifecycle implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerLifecycle.class);
    /** How long cancelled calls get to see their cancellation before resources are released under them. */
    public static final Duration AFTER_CANCEL = Duration.ofSeconds(1);

    private final String service;
    private final Duration grace;
    private final HealthStatusManager health = new HealthStatusManager();
    private final List<AutoCloseable> withdraw = new ArrayList<>();
    private final List<AutoCloseable> release = new ArrayList<>();
    private Server server; // null until started, and for ever without an API
    private Server healthServer; // the plaintext health-only port, when asked for
    private boolean closed;

    /**
     * @param service the health service name of the server's main service (e.g. {@code cleave.v1.InferenceWorker})
     * @param grace how long calls in flight may run on once shutdown begins
     */
    public ServerLifecycle(String service, Duration grace) {
        this.service = Objects.requireNonNull(service, "service");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("shutdown grace must be >= 0, got " + grace);
        }
        this.grace = grace;
    }

    /**
     * Adds the health service and server reflection (grpc.reflection.v1, so that grpcurl-style tools
     * list and call the services without the .proto files) to {@code builder}, builds and starts the
     * server, and reports SERVING for the service and the server as a whole ("").
     */
    public synchronized Server start(ServerBuilder<?> builder) throws IOException {
        if (server != null || closed) {
            throw new IllegalStateException(closed ? "closed" : "already started");
        }
        server = builder.addService(health.getHealthService()).addService(ProtoReflectionServiceV1.newInstance()).build().start();
        health.setStatus(service, ServingStatus.SERVING);
        health.setStatus("", ServingStatus.SERVING);
        return server;
    }

    /**
     * Serves this server's health, and nothing else, in plaintext on {@code host:port} (0: a free port), for probes
     * that cannot speak the main port's mutual TLS (Kubernetes' native {@code grpc:} probe has no TLS). It reports what
     * the main port's health service reports (the same {@link HealthStatusManager}): SERVING once started, NOT_SERVING
     * from the start of shutdown; it stays up through the drain and closes with the server. Call after {@link #start}.
     * Small limits: health requests are a service name, and nobody but a prober has reason to call.
     *
     * @return the bound address
     */
    public synchronized InetSocketAddress serveHealth(String host, int port) throws IOException {
        if (server == null || closed || healthServer != null) {
            throw new IllegalStateException(closed ? "closed" : server == null ? "start the server first" : "health port already served");
        }
        Server h = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .addService(health.getHealthService())
                .maxInboundMessageSize(HEALTH_MAX_MESSAGE_BYTES)
                .maxInboundMetadataSize(HEALTH_MAX_MESSAGE_BYTES)
                .maxConcurrentCallsPerConnection(HEALTH_MAX_CALLS_PER_CONNECTION)
                .maxConnectionIdle(1, TimeUnit.MINUTES)
                .directExecutor() // HealthStatusManager answers from memory
                .build();
        try {
            healthServer = h.start();
        } catch (IOException e) {
            throw new IOException("health port: cannot listen on " + host + ":" + port + " (" + e.getMessage() + ")", e);
        }
        return new InetSocketAddress(host, healthServer.getPort());
    }

    /** A health check request is a service name: a few bytes; metadata likewise. */
    static final int HEALTH_MAX_MESSAGE_BYTES = 8 * 1024;
    /** A prober holds a call or two (a Watch, a Check); more on one connection is not a prober. */
    static final int HEALTH_MAX_CALLS_PER_CONNECTION = 4;

    /** Closed right after health goes NOT_SERVING, before the server stops accepting: what advertises the server. */
    public synchronized ServerLifecycle withdrawFirst(AutoCloseable c) {
        withdraw.add(Objects.requireNonNull(c));
        return this;
    }

    /** Closed once the server has stopped, after everything registered before. */
    public synchronized ServerLifecycle thenRelease(AutoCloseable c) {
        release.add(Objects.requireNonNull(c));
        return this;
    }

    /** The bound port; -1 for a transport without one (in-process) or without a server. */
    public synchronized int port() {
        return server == null ? -1 : server.getPort();
    }

    /** Blocks until the server has terminated; returns at once without one. */
    public void awaitTermination() throws InterruptedException {
        Server s;
        synchronized (this) {
            s = server;
        }
        if (s != null) {
            s.awaitTermination();
        }
    }

    /** The shutdown sequence described above; returns once every resource was released. */
    @Override
    public void close() {
        List<AutoCloseable> first;
        List<AutoCloseable> then;
        Server s;
        Server h;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            first = List.copyOf(withdraw);
            then = List.copyOf(release);
            s = server;
            h = healthServer;
        }
        health.enterTerminalState();
        first.forEach(ServerLifecycle::closeQuietly);
        if (s != null) {
            stop(s);
        }
        if (h != null) { // reported NOT_SERVING through the drain; its own calls (a Watch) are cut now
            h.shutdownNow();
            try {
                h.awaitTermination(AFTER_CANCEL.toNanos(), TimeUnit.NANOSECONDS); // its port free when close returns
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        then.forEach(ServerLifecycle::closeQuietly);
    }

    private void stop(Server s) {
        s.shutdown();
        try {
            if (!s.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                log.info("{}: calls still in flight after the {} ms grace period are cancelled", service, grace.toMillis());
                s.shutdownNow();
                s.awaitTermination(AFTER_CANCEL.toNanos(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            s.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // the rest must still be released
            log.warn("releasing {} on shutdown failed", c, e);
        }
    }
}
