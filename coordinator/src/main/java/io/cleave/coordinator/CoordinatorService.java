package io.cleave.coordinator;

import io.cleave.core.error.ErrorCode;
import io.cleave.core.security.Identity;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.RateLimitedLog;
import io.cleave.core.error.StatusMapper;
import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.HeartbeatReply;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC handlers of the coordinator: proto in, registry call, proto out. A heartbeat is checked
 * ({@link HeartbeatCheck}) before the registry sees it; refusals are logged, rate-limited.
 */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorService.class);

    private final WorkerRegistry registry;
    private final RateLimitedLog refusals = RateLimitedLog.warnings(log);

    public CoordinatorService(WorkerRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void heartbeat(WorkerHeartbeat hb, StreamObserver<HeartbeatReply> out) {
        try {
            String problem = HeartbeatCheck.problem(hb);
            if (problem != null) {
                throw CleaveException.invalid(problem);
            }
            String claim = HeartbeatCheck.unvouched(hb, Identity.current());
            if (claim != null) {
                throw new CleaveException(ErrorCode.PERMISSION_DENIED, claim);
            }
            registry.heartbeat(hb);
        } catch (CleaveException e) {
            Status s = StatusMapper.toStatus(e);
            refusals.log(s.getCode().name(), "heartbeat refused: " + s.getDescription());
            out.onError(s.asRuntimeException());
            return;
        }
        out.onNext(HeartbeatReply.newBuilder().setPeriodMs(TimeUnit.NANOSECONDS.toMillis(registry.periodNanos())).build());
        out.onCompleted();
    }

    @Override
    public void assign(AssignRequest req, StreamObserver<Assignment> out) {
        out.onNext(registry.assign(req.getModelId(), req.getCurrentTarget(), req.getLostTarget()));
        out.onCompleted();
    }
}
