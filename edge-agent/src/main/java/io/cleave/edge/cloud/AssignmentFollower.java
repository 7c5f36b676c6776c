package io.cleave.edge.cloud;

import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Asks the coordinator, every period, which worker this edge should use, and switches to it.
 * When the coordinator cannot be reached the edge keeps its last assignment (and its embedded
 * planner): the data path never depends on the coordinator.
 */
public final class AssignmentFollower implements AutoCloseable {
    private final ManagedChannel channel;
    private final WorkerClient workers;
    private final String edgeId;
    private final String modelId;
    private final ScheduledFuture<?> task;
    private volatile Assignment last;
    private final io.cleave.core.measure.LinkEstimator link; // null: nothing measured to report

    public AssignmentFollower(String coordinator, WorkerClient workers, String edgeId, String modelId, ScheduledExecutorService timers,
            long periodMillis, io.cleave.core.measure.LinkEstimator link) {
        this.link = link;
        this.channel = NettyChannelBuilder.forTarget(coordinator).usePlaintext().build();
        this.workers = workers;
        this.edgeId = edgeId;
        this.modelId = modelId;
        this.task = timers.scheduleWithFixedDelay(this::ask, 0, periodMillis, TimeUnit.MILLISECONDS);
    }

    /** Never blocks: runs on the edge's control thread, shared with the link prober, never the deadline thread. */
    void ask() {
        AssignRequest.Builder req = AssignRequest.newBuilder().setEdgeId(edgeId).setModelId(modelId)
                .setCurrentTarget(workers.targets().isEmpty() ? "" : workers.targets().get(0));
        if (link != null) { // the edge's own estimates, for the coordinator's view of the fleet
            double bw = link.bandwidth();
            double rtt = link.rtt();
            req.setUplinkBytesPerSecond(Double.isNaN(bw) ? 0 : bw).setRttUs(Double.isNaN(rtt) ? 0 : rtt / 1e3);
        }
        CoordinatorGrpc.newStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS).assign(req.build(), new StreamObserver<Assignment>() {
            @Override
            public void onNext(Assignment a) {
                last = a;
                if (!a.getWorkerTarget().isEmpty()) {
                    workers.retarget(a.getWorkerTarget());
                }
            }

            @Override
            public void onError(Throwable t) {
                // coordinator unreachable: keep the current worker
            }

            @Override
            public void onCompleted() {
            }
        });
    }

    public Assignment last() {
        return last;
    }

    @Override
    public void close() {
        task.cancel(false);
        channel.shutdownNow();
    }
}
