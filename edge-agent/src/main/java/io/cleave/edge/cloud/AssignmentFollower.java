package io.cleave.edge.cloud;

import io.cleave.edge.measure.EdgeMeasurements;
import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks the coordinator, every period, which worker this edge should use, and switches to it.
 * When the coordinator cannot be reached the edge keeps its last assignment (and its embedded
 * planner): the data path never depends on the coordinator.
 *
 * <p>Coordinator replicas share no state (every worker heartbeats to each): the follower asks one, and when it cannot
 * be reached asks the next at once, and stays with whichever answered.
 *
 * <p>When the edge loses its worker's connection ({@link WorkerClient#onLost}: a crashed worker is seen within
 * milliseconds) it asks at once, naming the lost worker, instead of waiting for the next period and for the
 * coordinator to miss three of the worker's heartbeats. Only that ask names it: the coordinator then keeps new edges off
 * the worker until its next heartbeat, and an edge whose own link stays broken must not keep a live worker closed.
 *
 * <p>On a move, the assignment's profile (the new worker's compute per segment, from its last
 * heartbeat) replaces the old worker's in the edge's measurements, so that the planner does not
 * plan on the worker it left until its own Describe of the new one answers (the link prober's next
 * round, which then supersedes it).
 */
public final class AssignmentFollower implements AutoCloseable {
    /** How often an edge asks: a worker's loss or a better-placed worker reaches the edge within this. */
    public static final long PERIOD_MILLIS = 500;
    private final List<ManagedChannel> channels;
    private volatile int current; // index into channels of the replica asked
    private final WorkerClient workers;
    private final String edgeId;
    private final String modelId;
    private final ScheduledFuture<?> task;
    private final ScheduledExecutorService timers;
    private volatile Assignment last;
    private final EdgeMeasurements measurements; // null: nothing measured to seed
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AssignmentFollower.class);
    private final io.cleave.core.error.RateLimitedLog problems = io.cleave.core.error.RateLimitedLog.warnings(log);
    private volatile boolean unreachable;

    public AssignmentFollower(String coordinator, io.cleave.core.security.Tls tls, WorkerClient workers, String edgeId, String modelId,
            ScheduledExecutorService timers, long periodMillis, EdgeMeasurements measurements) {
        this(io.cleave.core.net.HostPort.targets(coordinator).stream()
                .map(target -> (ManagedChannel) NettyChannelBuilder.forTarget(target, tls.channelCredentials()).build()).toList(),
                workers, edgeId, modelId, timers, periodMillis, measurements);
    }

    /** Over {@code channel} to the coordinator (e.g. in-process in tests); closing the follower closes it. */
    public AssignmentFollower(ManagedChannel channel, WorkerClient workers, String edgeId, String modelId, ScheduledExecutorService timers,
            long periodMillis, EdgeMeasurements measurements) {
        this(List.of(channel), workers, edgeId, modelId, timers, periodMillis, measurements);
    }

    /** Over {@code channels}, one per coordinator replica; closing the follower closes them. */
    public AssignmentFollower(List<ManagedChannel> channels, WorkerClient workers, String edgeId, String modelId, ScheduledExecutorService timers,
            long periodMillis, EdgeMeasurements measurements) {
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("no coordinator");
        }
        this.channels = List.copyOf(channels);
        this.workers = workers;
        this.edgeId = edgeId;
        this.modelId = modelId;
        this.measurements = measurements;
        this.timers = timers;
        this.task = timers.scheduleWithFixedDelay(this::ask, 0, periodMillis, TimeUnit.MILLISECONDS);
        workers.onLost(this::lost);
    }

    /** The edge lost {@code target}'s connection: when it is this edge's worker, ask for another now. */
    private void lost(String target) {
        if (!task.isCancelled() && workers.targets().equals(List.of(target))) {
            try {
                timers.execute(() -> ask(channels.size(), target));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the edge is shutting down
            }
        }
    }

    /** Never blocks: runs on the edge's control thread, shared with the link prober, never the deadline thread. */
    void ask() {
        ask(channels.size(), "");
    }

    /**
     * Asks the current replica; on failure the next, until {@code tries} replicas were asked this round. {@code lost}: the
     * worker whose connection this edge just lost, named when it is still the edge's worker (else "").
     */
    private void ask(int tries, String lost) {
        int asked = current;
        String on = workers.targets().isEmpty() ? "" : workers.targets().get(0);
        AssignRequest req = AssignRequest.newBuilder().setEdgeId(edgeId).setModelId(modelId).setCurrentTarget(on)
                .setLostTarget(!lost.isEmpty() && lost.equals(on) && workers.isLost(on) ? on : "").build();
        CoordinatorGrpc.newStub(channels.get(asked)).withDeadlineAfter(1, TimeUnit.SECONDS).assign(req, new StreamObserver<Assignment>() {
            @Override
            public void onNext(Assignment a) {
                last = a;
                String target = a.getWorkerTarget();
                if (!target.isEmpty() && !workers.targets().equals(List.of(target))) {
                    log.info("the coordinator assigns worker {} (was {}{}; {} live)", target,
                            workers.targets().isEmpty() ? "none" : workers.targets().get(0), req.getLostTarget().isEmpty() ? "" : ", lost",
                            a.getLiveWorkers());
                    seedProfile(a);
                    workers.retarget(target);
                }
                if (unreachable) {
                    unreachable = false;
                    log.info("coordinator reachable again");
                }
            }

            @Override
            public void onError(Throwable t) {
                if (tries > 1) { // another replica: ask it now (on the gRPC thread that failed: the call only starts an RPC)
                    current = (asked + 1) % channels.size();
                    ask(tries - 1, lost);
                    return;
                }
                // no coordinator reachable: keep the current worker
                unreachable = true;
                problems.log("coordinator", "coordinator unreachable (" + io.grpc.Status.fromThrowable(t).getCode()
                        + "): keeping worker " + (workers.targets().isEmpty() ? "none" : workers.targets().get(0)));
            }

            @Override
            public void onCompleted() {
            }
        });
    }

    private void seedProfile(Assignment a) {
        if (measurements == null) {
            return;
        }
        for (BlockProfile p : a.getProfileList()) {
            if (p.getBatch() == 1) {
                measurements.setCloudProfile(p.getBlock(), p.getMeanUs() * 1e3);
            }
        }
    }

    public Assignment last() {
        return last;
    }

    @Override
    public void close() {
        task.cancel(false);
        channels.forEach(ManagedChannel::shutdownNow);
    }
}
