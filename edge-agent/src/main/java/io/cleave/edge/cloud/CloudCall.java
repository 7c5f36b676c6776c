package io.cleave.edge.cloud;

import com.google.protobuf.UnsafeByteOperations;
import io.cleave.proto.v1.ExitResult;
import io.cleave.proto.v1.InferFrame;
import io.cleave.proto.v1.InferHeader;
import io.cleave.proto.v1.TensorChunk;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.function.Consumer;

/**
 * One inference stream to a worker: writes the header and payload chunks as flow control allows
 * (never blocking a gRPC thread), and hands each result and the end of the stream to callbacks.
 */
public final class CloudCall implements ClientResponseObserver<InferFrame, ExitResult> {
    /** Largest payload chunk per frame: a ViT-S token tensor (197x384 fp32, 296 KiB) travels in one frame, under the worker's 1 MiB message limit. */
    public static final int CHUNK_BYTES = 512 * 1024;

    private final InferHeader header;
    private final byte[] payload;
    private final Consumer<ExitResult> onResult;
    private final Consumer<Status> onEnd;
    private ClientCallStreamObserver<InferFrame> requests;
    private PayloadWriter<InferFrame> writer;
    private volatile boolean lastResultSeen;

    CloudCall(InferHeader header, byte[] payload, Consumer<ExitResult> onResult, Consumer<Status> onEnd) {
        this.header = header;
        this.payload = payload;
        this.onResult = onResult;
        this.onEnd = onEnd;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<InferFrame> stream) {
        this.requests = stream;
        // the payload is never modified after encoding: chunks wrap it instead of copying
        this.writer = new PayloadWriter<>(stream, InferFrame.newBuilder().setHeader(header).build(), payload, CHUNK_BYTES,
                (p, off, n) -> InferFrame.newBuilder().setChunk(TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(p, off, n)))
                        .build());
        stream.setOnReadyHandler(() -> writer.pump(0));
    }

    /**
     * Writes the header and the payload up to {@code eagerBytes} on the caller's thread, at once
     * (the onReady handler writes the rest as flow control allows).
     */
    void start(long eagerBytes) {
        writer.pump(eagerBytes);
    }

    /**
     * Stops the stream; the worker sees a cancellation and drops the work. A no-op once the
     * worker's last result arrived: the call is ending OK on its own, and a reset would only cost
     * both sides a frame.
     */
    public void cancel(String why) {
        if (requests != null && !lastResultSeen) {
            requests.cancel(why, null);
        }
    }

    @Override
    public void onNext(ExitResult r) {
        if (r.getLast()) {
            lastResultSeen = true;
        }
        onResult.accept(r);
    }

    @Override
    public void onError(Throwable t) {
        onEnd.accept(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
        onEnd.accept(Status.OK);
    }
}
