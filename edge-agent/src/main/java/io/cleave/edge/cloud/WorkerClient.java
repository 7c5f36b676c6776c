package io.cleave.edge.cloud;

import io.cleave.core.security.Tls;
import io.cleave.core.net.DataPlane;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.HttpConnectProxiedSocketAddress;
import io.grpc.ManagedChannel;
import io.grpc.ProxyDetector;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Channels to one or more cloud workers; picks one per call (round robin). */
public final class WorkerClient implements AutoCloseable {
    private volatile List<ManagedChannel> channels;
    private volatile ManagedChannel probeChannel; // its own connection to the first target; created on first use
    private volatile List<String> targets;
    private final AtomicInteger next = new AtomicInteger();
    private final InetSocketAddress via;
    private final Tls tls;
    private volatile Consumer<String> onLost = target -> {};
    private final java.util.Set<String> lost = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public WorkerClient(List<String> targets) {
        this(targets, null);
    }

    /**
     * Channels to {@code targets}; with {@code via} non-null, every channel goes through that HTTP
     * CONNECT proxy (e.g. a {@code cleave link} emulating this edge's network), whichever worker it is.
     */
    public WorkerClient(List<String> targets, InetSocketAddress via) {
        this(targets, via, Tls.PLAINTEXT);
    }

    /** As above, every channel with {@code tls} (mutual TLS: this edge's certificate, only the Cleave CA trusted). */
    public WorkerClient(List<String> targets, InetSocketAddress via, Tls tls) {
        this.via = via;
        this.tls = tls;
        this.targets = List.copyOf(targets);
        this.channels = targets.stream().map(t -> watched(t, channelBuilder(t, via, tls).build())).toList();
    }

    /**
     * Calls {@code listener} with a worker's target when its connection is lost (once per loss, on a gRPC or timer
     * thread; it must not block): e.g. to ask the coordinator for another worker at once.
     */
    public void onLost(Consumer<String> listener) {
        this.onLost = java.util.Objects.requireNonNull(listener);
    }

    /** Whether the connection to {@code target} is lost now (failed, not yet back). */
    public boolean isLost(String target) {
        return lost.contains(target);
    }

    /** The targets in use now. */
    public List<String> targets() {
        return targets;
    }

    /**
     * Switches to {@code target} (e.g. the coordinator's assignment). Streams in flight on the old
     * channel finish or fail on their own; the old channel is closed once they are done.
     */
    public synchronized void retarget(String target) {
        if (targets.equals(List.of(target))) {
            return;
        }
        List<ManagedChannel> old = channels;
        ManagedChannel oldProbe = probeChannel;
        channels = List.of(watched(target, channelBuilder(target, via, tls).build()));
        probeChannel = null;
        targets = List.of(target);
        old.forEach(ManagedChannel::shutdown);
        if (oldProbe != null) {
            oldProbe.shutdown();
        }
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(WorkerClient.class);
    private static final io.cleave.core.error.RateLimitedLog losses = io.cleave.core.error.RateLimitedLog.warnings(log); // a flapping link

    /**
     * Logs when the connection to a worker is lost (a warning, at most one per worker per 10 s:
     * requests fall back to local exits) and when it is back (info), and tells {@link #onLost}.
     */
    private ManagedChannel watched(String target, ManagedChannel ch) {
        // not connected yet: a worker down at start-up is EdgeServer's warning
        watch(target, ch, ch.getState(false), true, false, new java.util.concurrent.atomic.AtomicBoolean());
        return ch;
    }

    /**
     * @param target named in the log lines; null: this channel logs nothing (its loss is another channel's)
     * @param lostNow whether this channel's worker is lost; {@code connectedOnce}: whether it was ever connected
     */
    private void watch(String target, ManagedChannel ch, io.grpc.ConnectivityState seen, boolean lostNow, boolean connectedOnce,
            java.util.concurrent.atomic.AtomicBoolean redialing) {
        ch.notifyWhenStateChanged(seen, () -> {
            io.grpc.ConnectivityState now = ch.getState(false);
            boolean stillLost = lostNow;
            boolean connected = connectedOnce || now == io.grpc.ConnectivityState.READY;
            if (seen == io.grpc.ConnectivityState.READY && now == io.grpc.ConnectivityState.IDLE && target != null) {
                // the worker closed the connection (a crash, a restart, a drain): dial again now, not at the next request,
                // so that a worker that is gone is known to be gone (and reported) within milliseconds, not at the next offload
                ch.getState(true);
            }
            if (now == io.grpc.ConnectivityState.TRANSIENT_FAILURE && !lostNow) {
                if (target != null) {
                    losses.log("worker " + target + " unreachable", "answering from local exits until it is back");
                    if (connectedOnce && lost.add(target)) { // a worker never reached at start-up is EdgeServer's warning
                        onLost.accept(target);
                    }
                }
                stillLost = true;
            }
            if (now == io.grpc.ConnectivityState.TRANSIENT_FAILURE && redialing.compareAndSet(false, true)) {
                RECONNECT.schedule(() -> redial(ch, redialing), REDIAL_MILLIS, TimeUnit.MILLISECONDS);
            } else if (now == io.grpc.ConnectivityState.READY && lostNow) {
                if (target != null) {
                    log.info("worker {} connected", target);
                    lost.remove(target);
                }
                stillLost = false;
            }
            if (now != io.grpc.ConnectivityState.SHUTDOWN) {
                watch(target, ch, now, stillLost, connected, redialing);
            } else if (target != null) {
                lost.remove(target);
            }
        });
    }

    /**
     * How often a lost worker is dialled again. gRPC's own reconnect backoff (1 s, growing 1.6x per failed attempt up to
     * 2 min) is made for servers that are overloaded by reconnecting clients; a worker that restarts after a crash took
     * 3.2 s past listening again to get its first cloud answer (the soak). An edge has one connection per worker, so it
     * cuts the backoff short ({@link ManagedChannel#resetConnectBackoff}) on this fixed period while the worker is lost.
     */
    static final long REDIAL_MILLIS = 250;
    private static final java.util.concurrent.ScheduledExecutorService RECONNECT =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "cleave-worker-redial");
                t.setDaemon(true);
                return t;
            });

    /** While the channel is failing or dialling, cuts its backoff short every period; stops once it is connected, idle or shut down. */
    private static void redial(ManagedChannel ch, java.util.concurrent.atomic.AtomicBoolean redialing) {
        io.grpc.ConnectivityState now = ch.getState(false);
        if (now == io.grpc.ConnectivityState.TRANSIENT_FAILURE || now == io.grpc.ConnectivityState.CONNECTING) {
            ch.resetConnectBackoff();
            RECONNECT.schedule(() -> redial(ch, redialing), REDIAL_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            redialing.set(false);
            if (ch.getState(false) == io.grpc.ConnectivityState.TRANSIENT_FAILURE && redialing.compareAndSet(false, true)) {
                RECONNECT.schedule(() -> redial(ch, redialing), REDIAL_MILLIS, TimeUnit.MILLISECONDS); // failed again meanwhile
            }
        }
    }

    /** How every edge channel to a worker is configured. */
    public static NettyChannelBuilder channelBuilder(String target) {
        return channelBuilder(target, null);
    }

    /** As above, through the HTTP CONNECT proxy {@code via} when it is non-null (and no system proxy otherwise). */
    public static NettyChannelBuilder channelBuilder(String target, InetSocketAddress via) {
        return channelBuilder(target, via, Tls.PLAINTEXT);
    }

    /** As above, with {@code tls}. */
    public static NettyChannelBuilder channelBuilder(String target, InetSocketAddress via, Tls tls) {
        InetSocketAddress proxyAt = via == null || !via.isUnresolved() ? via : new InetSocketAddress(via.getHostString(), via.getPort());
        ProxyDetector proxy = proxyAt == null ? address -> null
                : address -> HttpConnectProxiedSocketAddress.newBuilder().setTargetAddress((InetSocketAddress) address)
                        .setProxyAddress(proxyAt).build();
        return NettyChannelBuilder.forTarget(target, tls.channelCredentials())
                .proxyDetector(proxy)
                .flowControlWindow(DataPlane.FLOW_CONTROL_WINDOW)
                // callbacks on these channels only write chunks, offer a result to an arbiter or record a
                // measurement, never block: run them on the transport thread, no hand-off per chunk and result
                .directExecutor()
                .keepAliveTime(30, TimeUnit.SECONDS);
    }

    public WorkerClient(ManagedChannel channel) {
        this.via = null;
        this.tls = Tls.PLAINTEXT;
        this.channels = List.of(channel);
        this.targets = List.of(channel.authority());
    }

    /**
     * Connects every channel now instead of on the first request, waiting up to {@code timeoutMillis}
     * for them to be ready; returns how many are. A worker that is down is not an error here:
     * requests will fall back to local exits.
     */
    public int connect(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        int ready = 0;
        for (ManagedChannel c : channels) {
            io.grpc.ConnectivityState s = c.getState(true);
            while (s != io.grpc.ConnectivityState.READY && System.nanoTime() < end) {
                java.util.concurrent.CountDownLatch changed = new java.util.concurrent.CountDownLatch(1);
                c.notifyWhenStateChanged(s, changed::countDown);
                changed.await(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                s = c.getState(true);
            }
            if (s == io.grpc.ConnectivityState.READY) {
                ready++;
            }
        }
        return ready;
    }

    public List<ManagedChannel> channels() {
        return channels;
    }

    public boolean isEmpty() {
        return channels.isEmpty();
    }

    /**
     * A connection of its own to the first target, for link probes: probes then measure the link,
     * not the backlog of requests queued on their connection, and a probe caught by a collapsing link
     * never holds requests behind it. Null when there is no target.
     */
    public synchronized ManagedChannel probeChannel() {
        List<String> now = targets;
        if (now.isEmpty()) {
            return null;
        }
        if (probeChannel == null) {
            probeChannel = channelBuilder(now.get(0), via, tls).build();
            // redialled like the request channels; its loss is theirs, so it logs nothing (no target)
            watch(null, probeChannel, probeChannel.getState(false), true, false, new java.util.concurrent.atomic.AtomicBoolean());
        }
        return probeChannel;
    }

    /** Opens a stream and starts sending; results and the end arrive on gRPC threads. */
    public CloudCall infer(InferHeader header, byte[] payload, long deadlineNanos, Consumer<ExitResult> onResult,
            Consumer<Status> onEnd) {
        List<ManagedChannel> now = channels;
        ManagedChannel ch = now.get(Math.floorMod(next.getAndIncrement(), now.size()));
        CloudCall call = new CloudCall(header, payload, onResult, onEnd);
        // the default 32 KiB on-ready threshold would park the writer after every chunk; let a whole tensor be buffered
        InferenceWorkerGrpc.newStub(ch).withOnReadyThreshold(DataPlane.FLOW_CONTROL_WINDOW)
                .withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).infer(call);
        // up to the on-ready threshold, gRPC would buffer the payload anyway: hand it over now, in one flush
        call.start(DataPlane.FLOW_CONTROL_WINDOW);
        return call;
    }

    @Override
    public void close() {
        ManagedChannel p = probeChannel;
        if (p != null) {
            p.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            try {
                c.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
