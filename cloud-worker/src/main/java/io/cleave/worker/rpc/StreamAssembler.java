package io.cleave.worker.rpc;

import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.proto.v1.Encoding;
import io.cleave.proto.v1.InferHeader;
import java.util.List;

/**
 * Validates an inference stream's header and gathers its payload chunks. Everything a caller
 * can get wrong is rejected here with INVALID_ARGUMENT or NOT_FOUND and a message naming the
 * problem, before anything reaches a model.
 */
final class StreamAssembler {
    private final InferHeader header;
    private final int rows;
    private final int rowSize;
    private final int size;
    private byte[] payload; // allocated only when the payload arrives in more than one chunk
    private com.google.protobuf.ByteString whole; // the payload, when it arrived in one chunk
    private int received;

    StreamAssembler(InferHeader h, ModelPack pack, long maxPayloadBytes) {
        if (!pack.id().equals(h.getModelId())) {
            throw new CleaveException(ErrorCode.NOT_FOUND, "model '" + h.getModelId() + "' is not served here (serving " + pack.id() + ")");
        }
        if (!h.getModelVersion().isEmpty() && !pack.version().equals(h.getModelVersion())) {
            throw new CleaveException(ErrorCode.NOT_FOUND, "model " + pack.id() + " version '" + h.getModelVersion()
                    + "' is not served here (serving " + pack.version() + ")");
        }
        int blocks = pack.blockCount();
        int split = h.getSplit();
        if (split < 0 || split >= blocks) {
            throw CleaveException.invalid("split " + split + " out of range: must be 0 (input) to " + (blocks - 1) + " (tokens after a block)");
        }
        Encoding enc = h.getEncoding();
        if (enc == Encoding.ENCODING_UNSPECIFIED || enc == Encoding.UNRECOGNIZED) {
            throw CleaveException.invalid("tensor encoding is missing or unknown (" + h.getEncodingValue() + ")");
        }
        if (split == 0 && enc != Encoding.U8_IMAGE && enc != Encoding.JPEG && enc != Encoding.FP32 && enc != Encoding.FP16) {
            throw CleaveException.invalid("split 0 carries the input as U8_IMAGE, JPEG, FP32 or FP16, not " + enc);
        }
        if (split > 0 && (enc == Encoding.U8_IMAGE || enc == Encoding.JPEG)) {
            throw CleaveException.invalid(enc + " is only valid at split 0; tokens after block " + split + " need FP32, FP16 or INT8");
        }
        int prev = split;
        for (int k : h.getSkipBlocksList()) {
            if (k <= prev || k > blocks) {
                throw CleaveException.invalid("skip_blocks " + h.getSkipBlocksList() + ": each must be after split " + split
                        + " and at most " + blocks + ", ascending, no repeats");
            }
            prev = k;
        }
        Segments segments = Segments.of(pack);
        int kept = h.getKeptTokens();
        if (kept != 0) {
            checkKept(pack, segments, h, kept);
        }
        List<Integer> expected = segments.payloadShape(split, kept == 0 ? segments.tokens() : kept); // batch 1 first
        if (!h.getShapeList().equals(expected)) {
            throw CleaveException.invalid("shape " + h.getShapeList() + " does not match " + expected + " expected at split " + split);
        }
        rowSize = expected.get(expected.size() - 1);
        rows = expected.stream().reduce(1, (a, b) -> a * b) / rowSize;
        long bytes;
        if (enc == Encoding.JPEG) { // a JPEG's size depends on the picture: take the declared one, bounded
            bytes = h.getPayloadBytes();
            long max = JpegCodec.maxBytes((long) rows * rowSize);
            if (bytes <= 0 || bytes > max) {
                throw CleaveException.invalid("payload_bytes " + bytes + " for a JPEG input of " + expected + " must be 1 to " + max);
            }
        } else {
            bytes = TensorCodec.payloadBytes(enc, rows, rowSize);
        }
        if (h.getPayloadBytes() != bytes) {
            throw CleaveException.invalid("payload_bytes " + h.getPayloadBytes() + " does not match " + bytes + " for "
                    + enc + " " + expected);
        }
        if (bytes > maxPayloadBytes) {
            throw new CleaveException(ErrorCode.RESOURCE_EXHAUSTED, "payload of " + bytes + " bytes exceeds the limit of " + maxPayloadBytes);
        }
        if (h.getDeadlineBudgetUs() <= 0) {
            throw new CleaveException(ErrorCode.DEADLINE_EXCEEDED, "deadline budget " + h.getDeadlineBudgetUs() + " us: already expired");
        }
        for (int e : h.getExitsList()) {
            if (e < 0 || e >= pack.exitCount() || !ExitPlacement.inCloud(pack.exit(e).afterBlock(), split)) {
                throw CleaveException.invalid("exit " + e + " is not after split " + split);
            }
        }
        this.header = h;
        this.size = (int) bytes;
    }

    /** A reduced-token stream: where it may enter, how many tokens it may carry, which exits it may ask for. */
    private static void checkKept(ModelPack pack, Segments segments, InferHeader h, int kept) {
        int split = h.getSplit();
        if (!pack.reducible()) {
            throw CleaveException.invalid("kept_tokens " + kept + ": model " + pack.id() + " " + pack.version()
                    + " is not reducible here (its graphs take all " + segments.tokens() + " tokens); send kept_tokens 0");
        }
        if (split < 1) {
            throw CleaveException.invalid("kept_tokens " + kept + " at split 0: only tokens after a block can be reduced");
        }
        int min = pack.prefixTokens() + 1;
        int max = segments.tokens() - 1;
        if (kept < min || kept > max) {
            throw CleaveException.invalid("kept_tokens " + kept + " out of range: " + min + " (the class token"
                    + (min > 2 ? "s" : "") + " and one more) to " + max + " (fewer than all " + segments.tokens() + "), or 0 for all");
        }
        for (int e : h.getExitsList()) {
            if (e >= 0 && e < pack.exitCount() && !pack.exit(e).acceptsReducedTokens()) {
                throw CleaveException.invalid("exit " + e + " (" + pack.exit(e).type() + ") needs all " + segments.tokens()
                        + " tokens; it is unavailable after a reduction to " + kept);
            }
        }
    }

    InferHeader header() {
        return header;
    }

    /** Appends a chunk; returns true when the payload is complete. */
    boolean add(com.google.protobuf.ByteString chunk) {
        if (received + chunk.size() > size) {
            throw CleaveException.invalid("payload overruns the declared " + size + " bytes (got " + (received + chunk.size()) + ")");
        }
        if (received == 0 && chunk.size() == size) {
            whole = chunk; // one chunk: decode straight from it, no assembly copy
        } else {
            if (payload == null) {
                payload = new byte[size];
            }
            chunk.copyTo(payload, received);
        }
        received += chunk.size();
        return received == size;
    }

    boolean complete() {
        return received == size;
    }

    int received() {
        return received;
    }

    /** Decoded values (raw pixels 0..255 for U8_IMAGE and JPEG); rejects non-finite values. */
    float[] decode() {
        if (header.getEncoding() == Encoding.JPEG) {
            List<Integer> s = header.getShapeList(); // [1, C, H, W], checked against the input's shape
            return JpegCodec.decode(whole != null ? whole.toByteArray() : payload, s.get(1), s.get(2), s.get(3));
        }
        java.nio.ByteBuffer b = whole != null ? whole.asReadOnlyByteBuffer() : java.nio.ByteBuffer.wrap(payload);
        return TensorCodec.decode(b, rows, rowSize, header.getEncoding());
    }
}
