package io.cleave.edge.measure;

import com.google.protobuf.ByteString;
import io.cleave.core.measure.LinkEstimator;
import io.cleave.core.measure.ProbeSizer;
import io.cleave.core.time.NanoClock;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.ProbeReply;
import io.cleave.proto.v1.TensorChunk;
import io.cleave.proto.v1.WorkerDescription;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Active measurement of a worker link, whether or not requests are being offloaded (a planner that
 * stays local still needs to learn when the link has become good). Every period:
 * <ul>
 *   <li>a <b>ping</b>, an empty Probe stream (a few header bytes each way, like an offload's result),
 *       gives the round trip the planner adds to every cloud path (offloads whose payload crosses in
 *       a fraction of it add their own: {@link EdgeMeasurements#recordCloud(long, io.cleave.edge.race.Candidate, double, long)});
 *   <li>once the ping is back, a Describe call refreshes the worker's compute profile (sent just
 *       before the ping, it shares its connection and threads: one run each read a median ping of
 *       16.1 ms with it and 14.9 ms without, on the 5G trace at 5 ms each way);
 *   <li>after the ping, when the link has been left alone long enough, a <b>bandwidth probe</b>: a
 *       Probe stream of {@link ProbeSizer#nextBytes} bytes, timed at the sender from the first byte
 *       handed to the channel to the worker's reply. That is one delivery plus one round trip, which
 *       {@link LinkEstimator#recordDelivery} turns into a rate, or only a bound from below when the
 *       probe was too small to resolve it (the next one is then larger).
 * </ul>
 * The worker's own receive time (first chunk to last) is not used: on a link that delivers in
 * bursts, a probe arrives in one piece whatever the rate.
 *
 * <p>One measurement is in flight at a time, so that a ping never queues behind a probe.
 */
public final class LinkProber implements AutoCloseable {
    /** Chunk of a bandwidth probe: large, so a 256 KiB probe is 16 messages. */
    static final int PROBE_CHUNK = 16 * 1024;
    private static final ByteString CHUNK = ByteString.copyFrom(new byte[PROBE_CHUNK]);
    private static final long PING_DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<ManagedChannel> channel;
    private final EdgeMeasurements m;
    private final NanoClock clock;
    private final ProbeSizer sizer;
    private final ScheduledFuture<?> task;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean warm;
    private volatile long nextProbeAt; // set to the clock's now at construction: probe at once

    public LinkProber(Supplier<ManagedChannel> channel, EdgeMeasurements m, ScheduledExecutorService timers, long periodMillis) {
        this(channel, m, timers, periodMillis, NanoClock.SYSTEM, ProbeSizer.defaults(TimeUnit.MILLISECONDS.toNanos(periodMillis)));
    }

    LinkProber(Supplier<ManagedChannel> channel, EdgeMeasurements m, ScheduledExecutorService timers, long periodMillis, NanoClock clock,
            ProbeSizer sizer) {
        this.channel = channel;
        this.m = m;
        this.clock = clock;
        this.sizer = sizer;
        // not Long.MIN_VALUE: "now - MIN_VALUE" overflows to a negative number for any positive clock reading
        // (System.nanoTime is positive here), and no bandwidth probe was ever sent
        this.nextProbeAt = clock.nanoTime();
        this.task = timers.scheduleWithFixedDelay(this::probe, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Never blocks: runs on the edge's control thread, shared with the coordinator follower, never the deadline thread. */
    void probe() {
        ManagedChannel ch = channel.get();
        if (ch == null) {
            return;
        }
        if (busy.compareAndSet(false, true)) {
            ping(ch);
        } else {
            describe(ch); // a bandwidth probe is still out: the profile is refreshed all the same
        }
    }

    private void describe(ManagedChannel ch) {
        InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(1, TimeUnit.SECONDS)
                .describe(DescribeRequest.getDefaultInstance(), new StreamObserver<WorkerDescription>() {
                    @Override
                    public void onNext(WorkerDescription d) {
                        for (BlockProfile p : d.getProfileList()) {
                            if (p.getBatch() == 1) {
                                m.setCloudProfile(p.getBlock(), p.getMeanUs() * 1e3);
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        // worker unreachable: nothing measured this round; plans use what is known
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    private void ping(ManagedChannel ch) {
        pingOnce(ch, clock, elapsed -> {
            if (elapsed < 0) { // failed
                busy.set(false);
                describe(ch);
                return;
            }
            if (warm) {
                m.link().recordRtt(elapsed);
            }
            warm = true; // the first call pays for stream set-up and class loading
            describe(ch); // after the ping, never just before it
            if (clock.nanoTime() - nextProbeAt >= 0) {
                probeBandwidth(ch);
            } else {
                busy.set(false);
            }
        });
    }

    private void probeBandwidth(ManagedChannel ch) {
        LinkEstimator link = m.link();
        int bytes = sizer.nextBytes(link);
        double rate = ProbeSizer.sizingRate(link);
        // long enough for the probe at a tenth of the rate it is sized for, and never under a second. Not the estimate:
        // sized by a bound from below far above a capped estimate, a probe got minutes, and when the link had just
        // slowed down it reported nothing until its bytes were through (seconds after the link had sped up again)
        long deadline = Math.max(PING_DEADLINE_NANOS, Double.isNaN(rate) ? 0 : (long) (10 * bytes * 1e9 / rate));
        long t0 = clock.nanoTime();
        send(ch, bytes, deadline, new Reply() {
            @Override
            public void ok(long elapsed) {
                link.recordDelivery(bytes, elapsed);
                nextProbeAt = clock.nanoTime() + sizer.pauseAfterNanos(elapsed, link);
                busy.set(false);
            }

            @Override
            public void failed(Status s) {
                if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                    // not delivered in the deadline: the link is at most this fast now
                    double rtt = link.rtt();
                    link.recordUpperBound(bytes, (long) (deadline - (Double.isNaN(rtt) ? 0 : rtt)));
                }
                nextProbeAt = clock.nanoTime() + sizer.pauseAfterNanos(deadline, link);
                busy.set(false);
            }
        }, t0, clock);
    }

    private interface Reply {
        void ok(long elapsedNanos);

        void failed(Status s);
    }

    /**
     * One ping as the prober sends it (an empty Probe stream), timed from the call to its reply on {@code clock}: for
     * benchmarks that compare it with the request path ({@code cleave bench rtt}). {@code done} gets the round trip in
     * nanoseconds, or -1 when the ping failed.
     */
    public static void pingOnce(ManagedChannel ch, NanoClock clock, java.util.function.LongConsumer done) {
        send(ch, 0, PING_DEADLINE_NANOS, new Reply() {
            @Override
            public void ok(long elapsed) {
                done.accept(elapsed);
            }

            @Override
            public void failed(Status s) {
                done.accept(-1);
            }
        }, clock.nanoTime(), clock);
    }

    /** One Probe stream of {@code bytes} zero bytes (0: a ping); the reply is timed from {@code t0}. */
    private static void send(ManagedChannel ch, int bytes, long deadlineNanos, Reply reply, long t0, NanoClock clock) {
        StreamObserver<TensorChunk> req;
        try {
            req = InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS)
                    .probe(new StreamObserver<ProbeReply>() {
                        private boolean done;

                        @Override
                        public void onNext(ProbeReply r) {
                            done = true;
                            reply.ok(clock.nanoTime() - t0);
                        }

                        @Override
                        public void onError(Throwable t) {
                            if (!done) {
                                done = true;
                                reply.failed(Status.fromThrowable(t));
                            }
                        }

                        @Override
                        public void onCompleted() {
                            if (!done) {
                                done = true;
                                reply.failed(Status.INTERNAL.withDescription("probe ended without a reply"));
                            }
                        }
                    });
        } catch (RuntimeException e) {
            reply.failed(Status.fromThrowable(e));
            return;
        }
        for (int left = bytes; left > 0; left -= PROBE_CHUNK) {
            req.onNext(TensorChunk.newBuilder().setData(left >= PROBE_CHUNK ? CHUNK : CHUNK.substring(0, left)).build());
        }
        req.onCompleted();
    }

    @Override
    public void close() {
        task.cancel(false);
    }
}
