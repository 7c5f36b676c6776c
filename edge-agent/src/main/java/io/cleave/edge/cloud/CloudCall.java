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
    private boolean headerSent;
    private int offset;
    private boolean halfClosed;
    private volatile long lastByteWrittenNanos;

    CloudCall(InferHeader header, byte[] payload, Consumer<ExitResult> onResult, Consumer<Status> onEnd) {
        this.header = header;
        this.payload = payload;
        this.onResult = onResult;
        this.onEnd = onEnd;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<InferFrame> stream) {
        this.requests = stream;
        stream.setOnReadyHandler(this::pump);
    }

    /** Writes as much as the transport accepts now; called again by gRPC when it is ready. */
    private synchronized void pump() {
        if (halfClosed) {
            return;
        }
        while (requests.isReady() && !halfClosed) {
            if (!headerSent) {
                requests.onNext(InferFrame.newBuilder().setHeader(header).build());
                headerSent = true;
            } else if (offset < payload.length) {
                int n = Math.min(CHUNK_BYTES, payload.length - offset);
                requests.onNext(InferFrame.newBuilder()
                        // the payload is never modified after encoding: wrap it instead of copying
                        .setChunk(TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(payload, offset, n)))
                        .build());
                offset += n;
                if (offset == payload.length) {
                    lastByteWrittenNanos = System.nanoTime();
                }
            } else {
                halfClosed = true;
                requests.onCompleted();
            }
        }
    }

    /** Starts writing if the stream is ready already (the onReady handler covers the rest). */
    void start() {
        pump();
    }

    /** Stops the stream; the worker sees a cancellation and drops the work. */
    public void cancel(String why) {
        if (requests != null) {
            requests.cancel(why, null);
        }
    }

    public long lastByteWrittenNanos() {
        return lastByteWrittenNanos;
    }

    @Override
    public void onNext(ExitResult r) {
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
