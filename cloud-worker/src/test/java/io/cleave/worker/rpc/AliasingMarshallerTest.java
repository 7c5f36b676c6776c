package io.cleave.worker.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.KnownLength;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The worker's inbound marshaller: one copy per message, payload bytes aliased, bad bytes named. */
class AliasingMarshallerTest {
    private final AliasingMarshaller<InferFrame> frames = new AliasingMarshaller<>(InferFrame.getDefaultInstance());

    static InferFrame chunk(byte[] data) {
        return InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(data))).build();
    }

    @Test
    void chunkBytesAreViewsOfTheParsedBufferNotCopies() {
        byte[] payload = new byte[4096];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        byte[] wire = chunk(payload).toByteArray();
        InferFrame parsed = frames.parse(wire);
        assertThat(parsed.getChunk().getData().toByteArray()).isEqualTo(payload);
        // the payload is the last field on the wire: changing the buffer changes what the message holds
        wire[wire.length - 1] ^= (byte) 0xFF;
        assertThat(parsed.getChunk().getData().byteAt(payload.length - 1)).isEqualTo((byte) (payload[payload.length - 1] ^ 0xFF));
    }

    @Test
    void parsesWhatTheStockMarshallerStreamsWhateverTheMessage() {
        InferFrame header = InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("r1").setSplit(2)
                .addShape(1).addShape(50).addShape(64).setPayloadBytes(6400)).build();
        InputStream in = frames.stream(header);
        assertThat(in).isInstanceOf(KnownLength.class);
        assertThat(frames.parse(in)).isEqualTo(header);

        AliasingMarshaller<TensorChunk> chunks = new AliasingMarshaller<>(TensorChunk.getDefaultInstance());
        TensorChunk c = TensorChunk.newBuilder().setData(ByteString.copyFromUtf8("tokens")).build();
        assertThat(chunks.parse(chunks.stream(c))).isEqualTo(c);
        // a stream of unknown length takes the stock path
        assertThat(chunks.parse(new ByteArrayInputStream(c.toByteArray()))).isEqualTo(c);
    }

    @Test
    void garbageIsAnInternalErrorNamingTheMessageType() {
        byte[] truncated = chunk(new byte[100]).toByteArray();
        byte[] cut = java.util.Arrays.copyOf(truncated, truncated.length - 10);
        assertThatThrownBy(() -> frames.parse(cut))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
                    assertThat(e.getStatus().getDescription()).startsWith("invalid InferFrame");
                });
    }

    @Test
    void bindSwapsOnlyTheNamedMethods() {
        ServerServiceDefinition stock = new InferenceWorkerGrpc.InferenceWorkerImplBase() {}.bindService();
        ServerServiceDefinition bound = AliasingMarshaller.bind(stock,
                Set.of(InferenceWorkerGrpc.getInferMethod(), InferenceWorkerGrpc.getProbeMethod()));
        assertThat(bound.getMethods()).hasSameSizeAs(stock.getMethods());
        for (ServerMethodDefinition<?, ?> m : bound.getMethods()) {
            String name = m.getMethodDescriptor().getFullMethodName();
            boolean aliased = name.equals(InferenceWorkerGrpc.getInferMethod().getFullMethodName())
                    || name.equals(InferenceWorkerGrpc.getProbeMethod().getFullMethodName());
            assertThat(m.getMethodDescriptor().getRequestMarshaller() instanceof AliasingMarshaller).as(name).isEqualTo(aliased);
        }
    }
}
