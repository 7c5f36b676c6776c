package io.cleave.edge.cloud;

import io.grpc.stub.ClientCallStreamObserver;

/**
 * Writes a client stream's payload: an optional first message (a header), then the payload in
 * chunks of at most {@code chunkBytes}, then the half-close. Never blocks: {@link #pump} writes
 * what flow control accepts now, and is called again from the stream's onReady handler.
 *
 * <pre>{@code
 * PayloadWriter<TensorChunk> w = new PayloadWriter<>(stream, null, payload, CloudCall.CHUNK_BYTES,
 *         (p, off, n) -> TensorChunk.newBuilder().setData(UnsafeByteOperations.unsafeWrap(p, off, n)).build());
 * stream.setOnReadyHandler(() -> w.pump(0));   // in beforeStart
 * w.pump(DataPlane.FLOW_CONTROL_WINDOW);        // once the call is started
 * }</pre>
 */
public final class PayloadWriter<M> {
    /** Makes the message carrying {@code payload[offset, offset + length)}. */
    @FunctionalInterface
    public interface Chunks<M> {
        M chunk(byte[] payload, int offset, int length);
    }

    private final ClientCallStreamObserver<M> stream;
    private final M first;
    private final byte[] payload;
    private final int chunkBytes;
    private final Chunks<M> chunks;
    private boolean firstSent;
    private int offset;
    private boolean halfClosed;

    public PayloadWriter(ClientCallStreamObserver<M> stream, M first, byte[] payload, int chunkBytes, Chunks<M> chunks) {
        this.stream = stream;
        this.first = first;
        this.firstSent = first == null;
        this.payload = payload;
        this.chunkBytes = chunkBytes;
        this.chunks = chunks;
    }

    /**
     * Writes as much as the transport accepts now. With {@code eagerBytes > 0} it writes that much
     * payload even before the transport says it is ready: gRPC buffers it and sends the first
     * message, the payload and the half-close in one flush as soon as the stream exists, instead
     * of waiting for the stream to be allocated and a ready callback.
     */
    public synchronized void pump(long eagerBytes) {
        long eager = eagerBytes;
        while ((eager > 0 || stream.isReady()) && !halfClosed) {
            if (!firstSent) {
                stream.onNext(first);
                firstSent = true;
            } else if (offset < payload.length) {
                int n = Math.min(chunkBytes, payload.length - offset);
                stream.onNext(chunks.chunk(payload, offset, n));
                offset += n;
                eager -= n;
            } else {
                halfClosed = true;
                stream.onCompleted();
            }
        }
    }
}
