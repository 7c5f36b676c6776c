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
        stream.setOnReadyHandler(() -> pump(0));
    }

    /**
     * Writes as much as the transport accepts now; called again by gRPC when it is ready. With
     * {@code eagerBytes > 0} it writes that much even before the transport says it is ready:
     * gRPC buffers it and sends header, payload and half-close in one flush as soon as the
     * stream exists, instead of waiting for the stream to be allocated and a ready callback.
     */
    private synchronized void pump(long eagerBytes) {
        if (halfClosed) {
            return;
        }
        long eager = eagerBytes;
        while ((eager > 0 || requests.isReady()) && !halfClosed) {
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
                eager -= n;
                if (offset == payload.length) {
                    lastByteWrittenNanos = System.nanoTime();
                }
            } else {
                halfClosed = true;
                requests.onCompleted();
            }
        }
    }

    /**
     * Writes the header and the payload up to {@code eagerBytes} on the caller's thread, at once
     * (the onReady handler writes the rest as flow control allows).
     */
    void start(long eagerBytes) {
        pump(eagerBytes);
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

    public long lastByteWrittenNanos() {
        return lastByteWrittenNanos;
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
