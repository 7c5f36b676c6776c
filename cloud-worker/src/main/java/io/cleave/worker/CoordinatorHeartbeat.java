package io.cleave.worker;

import io.cleave.core.error.RateLimitedLog;
import io.cleave.core.pack.ModelPack;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.HeartbeatReply;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.cleave.worker.batch.LayerScheduler;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * Tells the coordinator, every period, that this worker is alive, how loaded, and how fast. Coordinator replicas share no
 * state: each is told every period, so any of them can assign this worker and losing one changes nothing here. Closing
 * it (the worker's graceful shutdown, before the server stops accepting) tells each replica once more, that this worker
 * is draining: it is then assigned to nobody, and its edges move at their next ask instead of after 3 silent periods.
 * A replica that cannot be reached is dialled again at every period.
 */
final class CoordinatorHeartbeat implements AutoCloseable {
    private final RateLimitedLog refusals = RateLimitedLog.warnings(LoggerFactory.getLogger(CoordinatorHeartbeat.class));
    private final java.util.List<ManagedChannel> channels;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cleave-worker-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private final String id = UUID.randomUUID().toString();
    private final String advertise;
    private final ModelPack pack;
    private final LayerScheduler scheduler;
    /** How long closing waits for the replicas to take the draining heartbeat. */
    static final long DRAINING_WAIT_MILLIS = 1000;

    /** @param coordinators one or more comma-separated {@code host:port}s: the replicas */
    CoordinatorHeartbeat(String coordinators, io.cleave.core.security.Tls tls, String advertise, ModelPack pack, LayerScheduler scheduler, long periodMillis) {
        channels = io.cleave.core.net.HostPort.targets(coordinators).stream()
                .map(target -> NettyChannelBuilder.forTarget(target, tls.channelCredentials()).build()).toList();
        this.advertise = advertise;
        this.pack = pack;
        this.scheduler = scheduler;
        timer.scheduleWithFixedDelay(() -> beat(false, () -> {}), 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Tells every replica; {@code done} runs once per replica, when it answered or failed. */
    private void beat(boolean draining, Runnable done) {
        WorkerHeartbeat.Builder hb = WorkerHeartbeat.newBuilder().setWorkerId(id).setTarget(advertise).setModelId(pack.id())
                .setModelVersion(pack.version()).setQueued(scheduler.queued()).setDraining(draining);
        double[][] prof = scheduler.profile().snapshot();
        for (int seg = 0; seg < prof.length; seg++) {
            if (prof[seg].length > 1 && prof[seg][1] > 0) {
                hb.addProfile(BlockProfile.newBuilder().setBlock(seg).setBatch(1).setMeanUs(prof[seg][1] / 1e3));
            }
        }
        WorkerHeartbeat beat = hb.build();
        for (ManagedChannel channel : channels) {
            send(channel, beat, done);
        }
    }

    private void send(ManagedChannel channel, WorkerHeartbeat beat, Runnable done) {
        // wait-for-ready: a heartbeat sent while the replica is being dialled goes as soon as the dial connects. Not the
        // draining one: shutdown waits for it, and a replica that is gone would hold it for the whole deadline
        CoordinatorGrpc.CoordinatorStub stub = CoordinatorGrpc.newStub(channel);
        (beat.getDraining() ? stub : stub.withWaitForReady()).withDeadlineAfter(1, TimeUnit.SECONDS).heartbeat(beat, new StreamObserver<HeartbeatReply>() {
            @Override
            public void onNext(HeartbeatReply r) {
            }

            @Override
            public void onError(Throwable t) {
                done.run();
                // coordinator away: keep serving; edges that know us keep sending. Refused: say so, it will not change by itself
                Status s = Status.fromThrowable(t);
                if (s.getCode() == Status.Code.UNAVAILABLE || s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
                    // dial it again now, not after gRPC's growing backoff (1 s, x1.6 per failure, up to 2 min), with the next
                    // heartbeat waiting for that dial: a replica that restarts learns of this worker within about a period.
                    // At most one dial per heartbeat per replica
                    channel.resetConnectBackoff();
                }
                if (s.getCode() == Status.Code.INVALID_ARGUMENT || s.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                    refusals.log(s.getCode().name(), "the coordinator refused this worker's heartbeat: " + s.getDescription());
                }
            }

            @Override
            public void onCompleted() {
                done.run();
            }
        });
    }

    /** Stops the periodic heartbeats, then announces draining to every replica, waiting up to {@link #DRAINING_WAIT_MILLIS}. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(100, TimeUnit.MILLISECONDS); // a periodic beat in progress (it only starts calls): not after ours
            java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(channels.size());
            beat(true, told::countDown);
            if (!told.await(DRAINING_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                LoggerFactory.getLogger(CoordinatorHeartbeat.class).warn("{} of {} coordinator replicas did not take the draining heartbeat within {} ms; "
                        + "they stop assigning this worker after 3 missed heartbeats", told.getCount(), channels.size(), DRAINING_WAIT_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }
}
