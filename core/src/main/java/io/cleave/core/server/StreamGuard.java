package io.cleave.core.server;

import io.cleave.core.error.RateLimitedLog;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what clients can make one server process hold, beyond what one connection can
 * ({@link ServerLimits}): at most {@code maxOpenCalls} calls open at once across all connections,
 * and a call the server is waiting on must deliver its next message within {@code idle}, or it is
 * closed with DEADLINE_EXCEEDED. A client that starts a message and never finishes it holds the
 * bytes it sent in gRPC's deframer (up to the message limit) and its flow-control window; closing
 * the stream is the only way to get them back, and the open-call bound is what bounds them in
 * total. The clock runs only while the server has asked for a message and the client has not
 * half-closed: a call computing, or one whose results are streaming back, is never idle.
 *
 * <p>The close comes from the guard's own thread, so the guard serializes the call's outbound
 * operations with it (an uncontended lock per message) and drops any the application makes
 * afterwards; the application then sees the call cancelled, as if the client had gone away.
 */
public final class StreamGuard implements ServerInterceptor {
    /** How often the process's one sweeper thread looks for idle calls, across every guard: the precision of {@code idle}. */
    static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Calls waiting for a message, across every guard in the process. */
    private static final Set<StreamGuard.Guarded<?, ?>> WAITING = ConcurrentHashMap.newKeySet();
    private static final ScheduledExecutorService SWEEPER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "stream-guard");
        t.setDaemon(true);
        return t;
    });

    static {
        SWEEPER.scheduleAtFixedRate(StreamGuard::sweep, SWEEP_NANOS, SWEEP_NANOS, TimeUnit.NANOSECONDS);
    }

    private final int maxOpenCalls;
    private final long idleNanos;
    private final AtomicInteger open = new AtomicInteger();
    private final RateLimitedLog refusals = RateLimitedLog.warnings(LoggerFactory.getLogger(StreamGuard.class));

    public StreamGuard(int maxOpenCalls, Duration idle) {
        if (maxOpenCalls < 1 || idle.isNegative() || idle.isZero()) {
            throw new IllegalArgumentException("maxOpenCalls must be >= 1 and idle positive, got " + maxOpenCalls + " and " + idle);
        }
        this.maxOpenCalls = maxOpenCalls;
        this.idleNanos = idle.toNanos();
    }

    /** Calls open now. */
    public int open() {
        return open.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (open.incrementAndGet() > maxOpenCalls) {
            open.decrementAndGet();
            String why = "server busy: " + maxOpenCalls + " calls open, its limit; retry later";
            refusals.log("open-calls", call.getMethodDescriptor().getFullMethodName() + " refused: " + why);
            call.close(Status.RESOURCE_EXHAUSTED.withDescription(why), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        Guarded<Q, R> guarded = new Guarded<>(call);
        try {
            return guarded.listen(next.startCall(guarded, headers));
        } catch (RuntimeException e) {
            guarded.ended();
            throw e;
        }
    }

    private static void sweep() {
        long now = System.nanoTime();
        for (Guarded<?, ?> g : WAITING) {
            g.closeIfIdle(now);
        }
    }

    private final class Guarded<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private long lastNanos = System.nanoTime(); // guarded by this
        private int requested; // messages asked for and not yet delivered; guarded by this
        private boolean halfClosed; // guarded by this
        private boolean closedIdle; // guarded by this
        private boolean ended; // guarded by this

        Guarded(ServerCall<Q, R> call) {
            super(call);
        }

        ServerCall.Listener<Q> listen(ServerCall.Listener<Q> app) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(app) {
                @Override
                public void onMessage(Q message) {
                    synchronized (Guarded.this) {
                        if (closedIdle) {
                            return;
                        }
                        lastNanos = System.nanoTime();
                        requested = Math.max(0, requested - 1);
                        if (requested == 0) {
                            WAITING.remove(Guarded.this);
                        }
                    }
                    super.onMessage(message);
                }

                @Override
                public void onHalfClose() {
                    synchronized (Guarded.this) {
                        if (closedIdle) {
                            return;
                        }
                        halfClosed = true;
                        WAITING.remove(Guarded.this);
                    }
                    super.onHalfClose();
                }

                @Override
                public void onReady() {
                    synchronized (Guarded.this) {
                        if (closedIdle) {
                            return;
                        }
                    }
                    super.onReady();
                }

                @Override
                public void onComplete() {
                    boolean idle = ended();
                    if (idle) {
                        super.onCancel(); // the application learns the call is gone, as if the client had cancelled
                    } else {
                        super.onComplete();
                    }
                }

                @Override
                public void onCancel() {
                    ended();
                    super.onCancel();
                }
            };
        }

        /** Counts the call out once; true if the guard closed it as idle. */
        synchronized boolean ended() {
            if (!ended) {
                ended = true;
                open.decrementAndGet();
                WAITING.remove(this);
            }
            return closedIdle;
        }

        @Override
        public synchronized void request(int numMessages) {
            if (closedIdle || ended) {
                return;
            }
            if (requested == 0 && !halfClosed) {
                lastNanos = System.nanoTime(); // the clock starts when the server starts waiting
                WAITING.add(this);
            }
            requested += numMessages;
            super.request(numMessages);
        }

        synchronized void closeIfIdle(long now) {
            if (closedIdle || ended || halfClosed || requested == 0 || now - lastNanos < idleNanos) {
                return;
            }
            closedIdle = true;
            WAITING.remove(this);
            String why = "no message for " + TimeUnit.NANOSECONDS.toMillis(now - lastNanos) + " ms (the limit is "
                    + TimeUnit.NANOSECONDS.toMillis(idleNanos) + " ms): stream closed as idle";
            refusals.log("idle", getMethodDescriptor().getFullMethodName() + ": " + why);
            super.close(Status.DEADLINE_EXCEEDED.withDescription(why), new Metadata());
        }

        @Override
        public synchronized void sendHeaders(Metadata headers) {
            if (!closedIdle) {
                super.sendHeaders(headers);
            }
        }

        @Override
        public synchronized void sendMessage(R message) {
            if (!closedIdle) {
                super.sendMessage(message);
            }
        }

        @Override
        public synchronized void close(Status status, Metadata trailers) {
            if (!closedIdle) {
                super.close(status, trailers);
            }
        }

        @Override
        public synchronized boolean isReady() {
            return !closedIdle && super.isReady();
        }

        @Override
        public synchronized boolean isCancelled() {
            return closedIdle || super.isCancelled();
        }
    }
}
