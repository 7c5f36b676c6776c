package io.cleave.coordinator;

import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.HeartbeatReply;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;

/** gRPC handlers of the coordinator: proto in, registry call, proto out. */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
    private final WorkerRegistry registry;

    public CoordinatorService(WorkerRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void heartbeat(WorkerHeartbeat hb, StreamObserver<HeartbeatReply> out) {
        if (hb.getWorkerId().isEmpty() || hb.getTarget().isEmpty()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("heartbeat needs worker_id and target").asRuntimeException());
            return;
        }
        registry.heartbeat(hb);
        out.onNext(HeartbeatReply.newBuilder().setPeriodMs(TimeUnit.NANOSECONDS.toMillis(registry.periodNanos())).build());
        out.onCompleted();
    }

    @Override
    public void assign(AssignRequest req, StreamObserver<Assignment> out) {
        out.onNext(registry.assign(req.getModelId(), req.getCurrentTarget()));
        out.onCompleted();
    }
}
