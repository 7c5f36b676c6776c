package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.cleave.core.security.BearerToken;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.ClassifyRequest;
import io.cleave.proto.v1.EdgeAgentGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge's device API with a token (a real `cleave edge --serve` process), and the refusal to expose it without one. */
class DeviceApiTokenTest {
    static final String TOKEN = "0123456789abcdef0123456789abcdef";

    static ClassifyRequest request() {
        return ClassifyRequest.newBuilder().setRequestId("t").setDeadlineMs(2000).setImage(ByteString.copyFrom(TestPacks.testSet().image(0)))
                .build();
    }

    @Test
    void everyCallCarriesTheToken_healthStaysOpen(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), TOKEN + "\n");
        try (CleaveProcess edge = CleaveProcess.edge("--api-token-file", file.toString(), "--warm-up-ms", "0")) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", edge.port()).usePlaintext().build();
            try {
                EdgeAgentGrpc.EdgeAgentBlockingStub stub = EdgeAgentGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
                Status none = catchThrowableOfType(StatusRuntimeException.class, () -> stub.classify(request())).getStatus();
                assertThat(none.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(none.getDescription()).contains("authorization: Bearer");
                ClientInterceptor wrong = BearerToken.client(TOKEN.replace('0', '1'));
                assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> stub.withInterceptors(wrong).classify(request()))
                        .getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(stub.withInterceptors(BearerToken.client(TOKEN)).classify(request()).getRequestId()).isEqualTo("t");
                assertThat(HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void aShortToken_isRefusedAtStart(@TempDir Path dir) throws Exception {
        // exposing the API without a token is refused too: CliMisuseTest
        Path shortToken = Files.writeString(dir.resolve("short"), "abc\n");
        assertThatThrownBy(() -> CleaveProcess.edge("--api-token-file", shortToken.toString()))
                .hasMessageContaining("must be at least 16 printable ASCII characters");
    }
}
