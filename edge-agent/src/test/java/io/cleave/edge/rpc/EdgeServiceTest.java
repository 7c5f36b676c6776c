package io.cleave.edge.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.core.testing.TestPacks;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.ClassifyResponse;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.cleave.proto.v1.Source;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The device-facing API of an edge-only agent, over in-process gRPC: the server, handler pool and
 * limits of production, without a socket (EncodedImageServiceTest covers the Netty transport).
 */
class EdgeServiceTest {
    static EdgeServer edge;
    static ManagedChannel channel;
    static EdgeAgentGrpc.EdgeAgentBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        EdgeConfig cfg = EdgeConfig.builder(TestPacks.packDir()).kMax(4).concurrency(2).shutdownGraceMillis(1000)
                .policy(PolicyRegistry.FIXED).warmUpMillis(0).device("bench-top").build(); // a label the answers must carry
        String name = InProcessServerBuilder.generateName();
        edge = EdgeServer.start(cfg, null, InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        stub = EdgeAgentGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        edge.close();
    }

    @Test
    void classify_answersFromTheDeepestLocalExit_andSaysWhere() {
        ClassifyResponse r = stub.classify(ClassifyRequest.newBuilder().setRequestId("img-0")
                .setImage(ByteString.copyFrom(TestPacks.testSet().image(0))).setDeadlineMs(200).build());
        assertThat(r.getRequestId()).isEqualTo("img-0");
        assertThat(r.getSource()).isEqualTo(Source.LOCAL);
        assertThat(r.getExitIndex()).isEqualTo(TestPacks.pack().firstExitAtOrAfter(4)); // k_max 4: the exit after block 4 is the deepest local one
        assertThat(r.getBlock()).isEqualTo(4);
        assertThat(r.getReason()).isEqualTo("all-done");
        assertThat(r.getDevice()).isEqualTo("bench-top");
        assertThat(r.getDeadlineMet()).isTrue();
        assertThat(r.getProbabilitiesCount()).isEqualTo(10);
        assertThat(r.getLabel()).isEqualTo(TestPacks.pack().manifest().labels().get(r.getPredictedClass()));
    }

    @Test
    void wrongImageSize_isInvalidArgumentNamingTheSize() {
        assertThatThrownBy(() -> stub.classify(ClassifyRequest.newBuilder().setImage(ByteString.copyFrom(new byte[100]))
                .setDeadlineMs(100).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("image must have 784 pixels, got 100");
                });
    }

    @Test
    void missingDeadline_isInvalidArgument() {
        assertThatThrownBy(() -> stub.classify(ClassifyRequest.newBuilder()
                .setImage(ByteString.copyFrom(TestPacks.testSet().image(1))).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("deadline_ms must be > 0");
                });
    }

    @Test
    void health_reportsServing() {
        assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().setService(EdgeServer.SERVICE).build())
                .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
}
