package io.cleave.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.testing.RecordingCall;
import io.cleave.core.testing.TestPacks;
import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The whole worker (pack, engine, scheduler, handlers, health) on an in-process server, and its shutdown. */
class WorkerServerTest {

    @Test
    void aStreamInFlightWhenShutdownBegins_isServedToTheEnd_whileNewCallsAreRefused() throws Exception {
        String name = InProcessServerBuilder.generateName();
        WorkerConfig cfg = WorkerConfig.builder(TestPacks.packDir()).shutdownGraceMillis(30_000).build();
        WorkerServer worker = WorkerServer.start(cfg, InProcessServerBuilder.forName(name));
        ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
        try {
            assertThat(worker.port()).isEqualTo(-1); // no socket
            assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().setService(WorkerServer.SERVICE).build())
                    .getStatus()).isEqualTo(ServingStatus.SERVING);
            ModelPack pack = TestPacks.pack();
            assertThat(InferenceWorkerGrpc.newBlockingStub(channel).describe(DescribeRequest.getDefaultInstance()).getModelId())
                    .isEqualTo(pack.id());

            // a request whose payload has not all arrived yet: in flight on the worker
            byte[] tokens = TensorCodec.encode(new float[pack.manifest().tokens().size()], pack.manifest().tokens().dim(), Encoding.FP16);
            RecordingCall<InferFrame, ExitResult> call = new RecordingCall<>();
            InferenceWorkerGrpc.newStub(channel).infer(call);
            call.req.onNext(InferFrame.newBuilder().setHeader(InferHeader.newBuilder().setRequestId("late").setModelId(pack.id())
                    .setSplit(2).setEncoding(Encoding.FP16)
                    .addAllShape(List.of(1, pack.manifest().tokens().count(), pack.manifest().tokens().dim()))
                    .setDeadlineBudgetUs(30_000_000).setPayloadBytes(tokens.length)).build());

            CompletableFuture<Void> closing = CompletableFuture.runAsync(worker::close);
            StatusRuntimeException refused = null;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (refused == null && System.nanoTime() < until) {
                try {
                    InferenceWorkerGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS).describe(DescribeRequest.getDefaultInstance());
                } catch (StatusRuntimeException e) {
                    refused = e;
                }
            }
            assertThat(refused).as("a new call once shutdown began").isNotNull();
            assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(closing).as("draining the stream in flight").isNotDone();

            call.req.onNext(InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(ByteString.copyFrom(tokens))).build());
            call.req.onCompleted();
            assertThat(call.end.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
            assertThat(call.results).hasSize(pack.exitCount() - pack.firstExitAtOrAfter(3)); // every exit after the split
            closing.get(10, TimeUnit.SECONDS); // well before the 30 s grace: the drain ended with the last call
        } finally {
            channel.shutdownNow();
            worker.close();
        }
    }
}
