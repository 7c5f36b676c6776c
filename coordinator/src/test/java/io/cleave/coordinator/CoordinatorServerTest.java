package io.cleave.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.WorkerHeartbeat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The coordinator's server over in-process gRPC: the registry, its handlers and health, without a socket or child process. */
class CoordinatorServerTest {
    CoordinatorServer coordinator;
    ManagedChannel channel;
    CoordinatorGrpc.CoordinatorBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        coordinator = CoordinatorServer.start(CoordinatorConfig.builder().build(), InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        stub = CoordinatorGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        coordinator.close();
    }

    static WorkerHeartbeat hb(String id, int queued) {
        return WorkerHeartbeat.newBuilder().setWorkerId(id).setTarget("127.0.0.1:" + id).setModelId("m").setQueued(queued).build();
    }

    @Test
    void aWorkerThatHeartbeats_isAssigned_andTheReplyCarriesThePeriod() {
        assertThat(stub.heartbeat(hb("1", 3)).getPeriodMs()).isEqualTo(CoordinatorConfig.DEFAULT_HEARTBEAT_PERIOD_MILLIS);
        stub.heartbeat(hb("2", 0));
        var a = stub.assign(AssignRequest.newBuilder().setEdgeId("e").setModelId("m").build());
        assertThat(a.getWorkerTarget()).isEqualTo("127.0.0.1:2");
        assertThat(a.getLiveWorkers()).isEqualTo(2);
        assertThat(stub.assign(AssignRequest.newBuilder().setModelId("other").build()).getWorkerTarget()).isEmpty();
    }

    @Test
    void aHeartbeatWithoutIdOrTarget_isInvalidArgument() {
        assertThatThrownBy(() -> stub.heartbeat(WorkerHeartbeat.newBuilder().setWorkerId("x").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("worker_id and target");
                });
    }

    @Test
    void health_isServing_untilClose() {
        var check = HealthCheckRequest.newBuilder().setService(CoordinatorServer.SERVICE).build();
        assertThat(HealthGrpc.newBlockingStub(channel).check(check).getStatus()).isEqualTo(ServingStatus.SERVING);
        coordinator.close();
        assertThatThrownBy(() -> HealthGrpc.newBlockingStub(channel).check(check))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
}
