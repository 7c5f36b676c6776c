package io.cleave.worker.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.cleave.core.error.ErrorCode;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The worker's inbound marshaller: one copy per message, payload bytes aliased, bad bytes a named failure. */
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
        InferFrame parsed = frames.parse(wire).get();
        assertThat(parsed.getChunk().getData().toByteArray()).isEqualTo(payload);
        // the payload is the last field on the wire: changing the buffer changes what the message holds
        wire[wire.length - 1] ^= (byte) 0xFF;
        assertThat(parsed.getChunk().getData().byteAt(payload.length - 1)).isEqualTo((byte) (payload[payload.length - 1] ^ 0xFF));
    }

    @Test
    void parsesWhatTheStockMarshallerStreamsWhateverTheMessage() {
        InferFrame header = InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("r1").setSplit(2)
                .addShape(1).addShape(50).addShape(64).setPayloadBytes(6400)).build();
        InputStream in = frames.stream(Parsed.of(header));
        assertThat(in).isInstanceOf(KnownLength.class);
        assertThat(frames.parse(in).get()).isEqualTo(header);

        AliasingMarshaller<TensorChunk> chunks = new AliasingMarshaller<>(TensorChunk.getDefaultInstance());
        TensorChunk c = TensorChunk.newBuilder().setData(ByteString.copyFromUtf8("tokens")).build();
        assertThat(chunks.parse(chunks.stream(Parsed.of(c))).get()).isEqualTo(c);
        // a stream of unknown length is read to its end
        assertThat(chunks.parse(new ByteArrayInputStream(c.toByteArray())).get()).isEqualTo(c);
    }

    @Test
    void garbageIsAParsedFailure_invalidArgumentNamingTheMessageType_neverAnException() {
        byte[] truncated = chunk(new byte[100]).toByteArray();
        byte[] cut = java.util.Arrays.copyOf(truncated, truncated.length - 10);
        Parsed<InferFrame> p = frames.parse(cut);
        assertThat(p.message()).isNull();
        assertThat(p.error().code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(p.error()).hasMessageStartingWith("invalid InferFrame: ");
        assertThatThrownBy(p::get).isSameAs(p.error());
        assertThat(frames.parse(new ByteArrayInputStream(cut)).error().code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void parsingSwapsOnlyTheRequestMarshaller() {
        MethodDescriptor<Parsed<InferFrame>, ExitResult> m = AliasingMarshaller.parsing(InferenceWorkerGrpc.getInferMethod());
        assertThat(m.getFullMethodName()).isEqualTo(InferenceWorkerGrpc.getInferMethod().getFullMethodName());
        assertThat(m.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
        assertThat(m.getRequestMarshaller()).isInstanceOf(AliasingMarshaller.class);
        assertThat(m.getResponseMarshaller()).isSameAs(InferenceWorkerGrpc.getInferMethod().getResponseMarshaller());
    }
}
