package io.cleave.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.proto.v1.AssignRequest;
import io.cleave.proto.v1.BlockProfile;
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

    void refused(WorkerHeartbeat.Builder hb, Status.Code code, String message) {
        assertThatThrownBy(() -> stub.heartbeat(hb.build())).as(message)
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }

    @Test
    void heartbeatsOutOfRange_areInvalidArgument_andNeverReachTheRegistry() {
        WorkerHeartbeat.Builder ok = hb("7000", 0).toBuilder();
        refused(ok.clone().setQueued(-1_000_000), Status.Code.INVALID_ARGUMENT, "queued must be >= 0, got -1000000");
        String bad = "target must be host:port (a host name or address, no spaces, port 1..65535), got '";
        refused(ok.clone().setTarget("bad target with spaces"), Status.Code.INVALID_ARGUMENT, bad + "bad target with spaces'");
        refused(ok.clone().setTarget("127.0.0.1:0"), Status.Code.INVALID_ARGUMENT, bad + "127.0.0.1:0'");
        refused(ok.clone().setTarget("127.0.0.1:65536"), Status.Code.INVALID_ARGUMENT, bad + "127.0.0.1:65536'");
        refused(ok.clone().setTarget("127.0.0.1"), Status.Code.INVALID_ARGUMENT, bad + "127.0.0.1'");
        refused(ok.clone().setTarget("http://127.0.0.1:80"), Status.Code.INVALID_ARGUMENT, bad + "http://127.0.0.1:80'");
        refused(ok.clone().setTarget("h".repeat(100_000) + ":80"), Status.Code.INVALID_ARGUMENT,
                "target is 100003 characters, at most 255 allowed ('" + "h".repeat(64) + "...')");
        refused(ok.clone().setWorkerId("w".repeat(256)), Status.Code.INVALID_ARGUMENT, "worker_id is 256 characters, at most 255");
        refused(ok.clone().addProfile(BlockProfile.newBuilder().setBlock(1).setBatch(1).setMeanUs(-5)), Status.Code.INVALID_ARGUMENT,
                "profile entry (block 1, batch 1, mean_us -5.0) out of range");
        refused(ok.clone().addProfile(BlockProfile.newBuilder().setBlock(1).setBatch(0).setMeanUs(5)), Status.Code.INVALID_ARGUMENT,
                "out of range: block >= 0, batch >= 1");
        assertThat(coordinator.registry().live("")).isEmpty();
        stub.heartbeat(ok.build()); // the same heartbeat, in range
        assertThat(coordinator.registry().live("")).extracting(WorkerHeartbeat::getTarget).containsExactly("127.0.0.1:7000");
    }

    @Test
    void aWorkerOnLoopbackOrANamedHost_isAccepted_evenWhenNothingListensThere() {
        stub.heartbeat(hb("1", 0).toBuilder().setTarget("127.0.0.1:1").build()); // a closed port is not malformed
        stub.heartbeat(hb("2", 0).toBuilder().setTarget("cleave-worker-2.local:50051").build());
        stub.heartbeat(hb("3", 0).toBuilder().setTarget("[::1]:50051").build());
        assertThat(coordinator.registry().live("m")).hasSize(3);
    }

    @Test
    void theRegistryIsBounded_aNewWorkerPastItIsResourceExhausted_untilASilentOneExpires() throws Exception {
        channel.shutdownNow();
        coordinator.close();
        String name = InProcessServerBuilder.generateName();
        coordinator = CoordinatorServer.start(CoordinatorConfig.builder().maxWorkers(2).heartbeatPeriodMillis(50).build(),
                InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        stub = CoordinatorGrpc.newBlockingStub(channel);
        stub.heartbeat(hb("1", 0));
        stub.heartbeat(hb("2", 0));
        refused(hb("3", 0).toBuilder(), Status.Code.RESOURCE_EXHAUSTED, "registry full: 2 live workers");
        stub.heartbeat(hb("2", 1)); // a known worker keeps beating
        Thread.sleep(200); // 3 periods of 50 ms: both fall silent and expire
        stub.heartbeat(hb("3", 0));
        assertThat(coordinator.registry().live("m")).extracting(WorkerHeartbeat::getWorkerId).containsExactly("3");
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
