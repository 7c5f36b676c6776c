package io.cleave.edge.cloud;

import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** Channels to one or more cloud workers; picks one per call (round robin). */
public final class WorkerClient implements AutoCloseable {
    private final List<ManagedChannel> channels;
    private final AtomicInteger next = new AtomicInteger();

    public WorkerClient(List<String> targets) {
        this.channels = targets.stream()
                .map(t -> (ManagedChannel) NettyChannelBuilder.forTarget(t)
                        .usePlaintext()
                        .keepAliveTime(30, TimeUnit.SECONDS)
                        .build())
                .toList();
    }

    public WorkerClient(ManagedChannel channel) {
        this.channels = List.of(channel);
    }

    public boolean isEmpty() {
        return channels.isEmpty();
    }

    /** Opens a stream and starts sending; results and the end arrive on gRPC threads. */
    public CloudCall infer(InferHeader header, byte[] payload, long deadlineNanos, Consumer<ExitResult> onResult,
            Consumer<Status> onEnd) {
        ManagedChannel ch = channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
        CloudCall call = new CloudCall(header, payload, onResult, onEnd);
        InferenceWorkerGrpc.newStub(ch).withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).infer(call);
        call.start();
        return call;
    }

    @Override
    public void close() {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
        }
        for (ManagedChannel c : channels) {
            try {
                c.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
