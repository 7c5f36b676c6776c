package io.cleave.core.server;

import io.cleave.core.security.Authorization;
import io.cleave.core.security.Tls;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The connection limits every Cleave server runs with, in one place: the worker, the edge and
 * the coordinator build their Netty transport here. Without them a single client could open 2^31
 * streams on one connection and hold each open for ever. Message-size limits are per server
 * (each knows its largest legitimate message) and are applied to whatever builder it is given.
 */
public final class ServerLimits {
    /**
     * Streams one connection may have open at once, unless a server needs more (the worker's data plane, the edge's
     * device API). A client past it does not fail: its call waits in the client's stream buffer until a slot frees,
     * and a call started right after cancellations can stay there until its deadline (StreamSlotReuseTest), so a
     * limit must sit above what a legitimate client keeps in flight on one connection.
     */
    public static final int MAX_CONCURRENT_CALLS_PER_CONNECTION = 64;
    /** The server pings a connection quiet for this long, to find peers that vanished holding streams. */
    public static final Duration KEEPALIVE_TIME = Duration.ofMinutes(1);
    /** A ping unanswered for this long closes the connection. */
    public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
    /** Clients may ping this often (the edge's worker channel pings every 30 s); more often is abuse. */
    public static final Duration PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(20);
    /** A connection without calls for this long is closed; a client reconnects on its next call. */
    public static final Duration MAX_CONNECTION_IDLE = Duration.ofMinutes(5);
    /**
     * A call the server waits on must deliver its next message within this ({@link StreamGuard}). A Cleave client sends
     * its messages back to back; at 30 s, a 296 KiB token frame may crawl in at 80 kbit/s, far past any deadline.
     */
    public static final long STREAM_IDLE_MILLIS = 30_000;
    /** {@link #STREAM_IDLE_MILLIS} as a duration. */
    public static final Duration STREAM_IDLE = Duration.ofMillis(STREAM_IDLE_MILLIS);
    /** Calls open at once in one server, over all its connections, unless the server needs more ({@link StreamGuard}). */
    public static final int MAX_OPEN_CALLS = 1024;

    private ServerLimits() {}

    /** Netty on {@code address} with the limits above and {@link #MAX_CONCURRENT_CALLS_PER_CONNECTION}. */
    public static NettyServerBuilder netty(InetSocketAddress address) {
        return netty(address, MAX_CONCURRENT_CALLS_PER_CONNECTION);
    }

    /** Netty on {@code address} with the limits above and at most {@code callsPerConnection} streams per connection. */
    public static NettyServerBuilder netty(InetSocketAddress address, int callsPerConnection) {
        return netty(address, callsPerConnection, Tls.PLAINTEXT);
    }

    /**
     * As above, with {@code tls}: mutual TLS, and every call checked against the caller's role
     * ({@link Authorization}); {@link Tls#PLAINTEXT}: neither. Open calls and idle streams are
     * bounded by a {@link StreamGuard} with {@link #MAX_OPEN_CALLS} and {@link #STREAM_IDLE}.
     */
    public static NettyServerBuilder netty(InetSocketAddress address, int callsPerConnection, Tls tls) {
        return netty(address, callsPerConnection, tls, new StreamGuard(Math.max(MAX_OPEN_CALLS, callsPerConnection), STREAM_IDLE));
    }

    /** As above, with the process-wide bounds of {@code guard}. */
    public static NettyServerBuilder netty(InetSocketAddress address, int callsPerConnection, Tls tls, StreamGuard guard) {
        NettyServerBuilder b = NettyServerBuilder.forAddress(address, tls.serverCredentials());
        if (tls.enabled()) {
            b.intercept(new Authorization());
        }
        b.intercept(guard); // added last, runs first: a call past the bound is refused before anything else sees it
        return b.maxConcurrentCallsPerConnection(callsPerConnection)
                .keepAliveTime(KEEPALIVE_TIME.toNanos(), TimeUnit.NANOSECONDS)
                .keepAliveTimeout(KEEPALIVE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)
                .permitKeepAliveTime(PERMIT_KEEPALIVE_TIME.toNanos(), TimeUnit.NANOSECONDS)
                .maxConnectionIdle(MAX_CONNECTION_IDLE.toNanos(), TimeUnit.NANOSECONDS);
    }
}
