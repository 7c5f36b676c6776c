package io.cleave.worker.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.error.ErrorCode;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;

/**
 * Any bytes off the wire become a message or a {@link Parsed} failure with INVALID_ARGUMENT, never
 * an exception out of the marshaller, whether the transport's stream knows its length or not; and
 * the aliasing parser accepts exactly what protobuf's stock parser accepts, with the same result.
 */
class AliasingMarshallerFuzzTest {
    private static final AliasingMarshaller<InferFrame> FRAMES = new AliasingMarshaller<>(InferFrame.getDefaultInstance());
    private static final AliasingMarshaller<TensorChunk> CHUNKS = new AliasingMarshaller<>(TensorChunk.getDefaultInstance());

    /** What gRPC's own buffers are: a stream that knows how many bytes are left. */
    private static final class Known extends ByteArrayInputStream implements KnownLength {
        Known(byte[] b) {
            super(b);
        }
    }

    @FuzzTest
    void parse(byte[] wire) {
        check(FRAMES.parse(wire.clone()), InferFrame.parser(), wire);
        check(FRAMES.parse(new Known(wire)), InferFrame.parser(), wire);
        check(FRAMES.parse(new ByteArrayInputStream(wire)), InferFrame.parser(), wire);
        check(CHUNKS.parse(new Known(wire)), TensorChunk.parser(), wire);
    }

    private static <T extends Message> void check(Parsed<T> p, Parser<T> stock, byte[] wire) {
        T expected;
        try {
            expected = stock.parseFrom(wire);
        } catch (InvalidProtocolBufferException e) {
            expected = null;
        }
        assertThat(p.message() == null).as("exactly one of message and error").isNotEqualTo(p.error() == null);
        if (p.error() != null) {
            assertThat(p.error().code()).as(p.error().getMessage()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            assertThat(expected).as("the stock parser accepts what the aliasing one refused").isNull();
        } else {
            assertThat(p.message()).isEqualTo(expected);
        }
    }
}
