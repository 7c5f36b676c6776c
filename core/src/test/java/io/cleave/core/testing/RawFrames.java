package io.cleave.core.testing;

import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** A worker Infer call whose request messages are arbitrary bytes: what a foreign or broken client can send. */
public final class RawFrames {
    private RawFrames() {}

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream in) {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], ExitResult> INFER = InferenceWorkerGrpc.getInferMethod()
            .toBuilder(BYTES, ProtoUtils.marshaller(ExitResult.getDefaultInstance())).build();

    /** Starts an Infer call on {@code channel} with a 10 s deadline; send with {@code call.req}. */
    public static RecordingCall<byte[], ExitResult> infer(Channel channel) {
        RecordingCall<byte[], ExitResult> call = new RecordingCall<>();
        ClientCalls.asyncBidiStreamingCall(channel.newCall(INFER, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)), call);
        return call;
    }
}
