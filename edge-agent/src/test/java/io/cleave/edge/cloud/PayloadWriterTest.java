package io.cleave.edge.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.cleave.core.testing.RecordingCall;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.ProbeReply;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The first message, then the payload in order and in chunks, then the half-close: eagerly or as flow control allows. */
class PayloadWriterTest {
    final List<ByteString> received = new CopyOnWriteArrayList<>();
    Server server;
    ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(new InferenceWorkerGrpc.InferenceWorkerImplBase() {
            @Override
            public StreamObserver<TensorChunk> probe(StreamObserver<ProbeReply> replies) {
                return new StreamObserver<>() {
                    long bytes;

                    @Override
                    public void onNext(TensorChunk c) {
                        received.add(c.getData());
                        bytes += c.getData().size();
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() { // only after the half-close
                        replies.onNext(ProbeReply.newBuilder().setBytes(bytes).build());
                        replies.onCompleted();
                    }
                };
            }
        }).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    /** Streams {@code payload} after a 3-byte first message, in chunks of 1000 bytes, with {@code eager} bytes written at once. */
    RecordingCall<TensorChunk, ProbeReply> send(byte[] payload, long eager) {
        RecordingCall<TensorChunk, ProbeReply> call = new RecordingCall<>();
        List<PayloadWriter<TensorChunk>> writer = new CopyOnWriteArrayList<>();
        InferenceWorkerGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).probe(new ClientResponseObserver<TensorChunk, ProbeReply>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<TensorChunk> req) {
                call.beforeStart(req);
                PayloadWriter<TensorChunk> w = new PayloadWriter<>(req, TensorChunk.newBuilder().setData(ByteString.copyFromUtf8("hdr")).build(),
                        payload, 1000, (p, off, n) -> TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(p, off, n)).build());
                writer.add(w);
                req.setOnReadyHandler(() -> w.pump(0));
            }

            @Override
            public void onNext(ProbeReply r) {
                call.onNext(r);
            }

            @Override
            public void onError(Throwable t) {
                call.onError(t);
            }

            @Override
            public void onCompleted() {
                call.onCompleted();
            }
        });
        writer.get(0).pump(eager);
        return call;
    }

    void assertDelivered(RecordingCall<TensorChunk, ProbeReply> call, byte[] payload) throws Exception {
        assertThat(call.end.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        assertThat(call.results.get(0).getBytes()).isEqualTo(3 + payload.length);
        assertThat(received.get(0).toStringUtf8()).isEqualTo("hdr");
        assertThat(received.subList(1, received.size())).extracting(ByteString::size).containsExactly(1000, 1000, 500);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (ByteString b : received.subList(1, received.size())) {
            b.writeTo(joined);
        }
        assertThat(joined.toByteArray()).isEqualTo(payload);
    }

    static byte[] payload() {
        byte[] p = new byte[2500];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (i * 31);
        }
        return p;
    }

    @Test
    void eagerWritesEverythingAtOnce() throws Exception {
        byte[] p = payload();
        assertDelivered(send(p, Long.MAX_VALUE), p);
    }

    @Test
    void withoutAnEagerBudgetTheReadyCallbackWritesIt() throws Exception {
        byte[] p = payload();
        assertDelivered(send(p, 0), p);
    }

    @Test
    void aBudgetSmallerThanThePayloadLeavesTheRestToFlowControl() throws Exception {
        byte[] p = payload();
        assertDelivered(send(p, 1000), p);
    }
}
