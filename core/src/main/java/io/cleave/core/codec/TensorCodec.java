package io.cleave.core.codec;

import io.cleave.core.error.CleaveException;
import io.cleave.proto.v1.Encoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Encodes and decodes tensors for the wire (see {@code proto/cleave/v1/inference.proto}).
 *
 * <p>A tensor is seen as {@code rows x rowSize} values (for tokens: one row per token). Decoding
 * checks the payload length exactly and rejects non-finite values, so a malformed payload never
 * reaches a model.
 */
public final class TensorCodec {
    private TensorCodec() {}

    /** Exact payload size in bytes of {@code rows x rowSize} values in {@code encoding}. */
    public static long payloadBytes(Encoding encoding, int rows, int rowSize) {
        long n = (long) rows * rowSize;
        switch (encoding) {
            case FP32: return 4 * n;
            case FP16: return 2 * n;
            case INT8: return n + 4L * rows;
            case U8_IMAGE: return n;
            case JPEG: throw CleaveException.invalid("a JPEG payload has no fixed size (see JpegCodec)");
            default: throw CleaveException.invalid("unsupported tensor encoding " + encoding);
        }
    }

    public static byte[] encode(float[] values, int rowSize, Encoding encoding) {
        int rows = values.length / rowSize;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(payloadBytes(encoding, rows, rowSize))).order(ByteOrder.LITTLE_ENDIAN);
        switch (encoding) {
            case FP32:
                b.asFloatBuffer().put(values);
                break;
            case FP16:
                for (float v : values) {
                    b.putShort(Half.fromFloat(v));
                }
                break;
            case INT8:
                for (int r = 0; r < rows; r++) {
                    float max = 0f;
                    for (int i = r * rowSize; i < (r + 1) * rowSize; i++) {
                        max = Math.max(max, Math.abs(values[i]));
                    }
                    float scale = max / 127f;
                    b.putFloat(scale);
                    for (int i = r * rowSize; i < (r + 1) * rowSize; i++) {
                        b.put(scale == 0f ? 0 : (byte) Math.max(-127, Math.min(127, Math.rint(values[i] / scale))));
                    }
                }
                break;
            default:
                throw CleaveException.invalid("cannot encode float values as " + encoding);
        }
        return b.array();
    }

    /** Raw image bytes (split 0); values must already be 0..255. */
    public static byte[] encodeImage(byte[] pixels) {
        return pixels.clone();
    }

    /**
     * Decodes {@code rows x rowSize} values. U8_IMAGE yields the raw pixel values 0..255; the
     * caller applies preprocessing.
     *
     * @throws CleaveException INVALID_ARGUMENT if the payload length is wrong or a value is not finite
     */
    public static float[] decode(byte[] payload, int rows, int rowSize, Encoding encoding) {
        return decode(ByteBuffer.wrap(payload), rows, rowSize, encoding);
    }

    /** Same, reading the payload from {@code payload}'s position to its limit. */
    public static float[] decode(ByteBuffer payload, int rows, int rowSize, Encoding encoding) {
        long expected = payloadBytes(encoding, rows, rowSize);
        int length = payload.remaining();
        if (length != expected) {
            throw CleaveException.invalid(encoding + " payload of " + rows + "x" + rowSize + " values must be " + expected
                    + " bytes, got " + length + (length < expected ? " (truncated)" : ""));
        }
        int n = rows * rowSize;
        float[] out = new float[n];
        ByteBuffer b = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
        switch (encoding) {
            case FP32:
                b.asFloatBuffer().get(out);
                break;
            case FP16:
                for (int i = 0; i < n; i++) {
                    out[i] = Half.toFloat(b.getShort());
                }
                break;
            case INT8:
                for (int r = 0; r < rows; r++) {
                    float scale = b.getFloat();
                    if (!Float.isFinite(scale) || scale < 0) {
                        throw CleaveException.invalid("int8 scale of row " + r + " is " + scale + "; must be finite and >= 0");
                    }
                    for (int i = r * rowSize; i < (r + 1) * rowSize; i++) {
                        out[i] = b.get() * scale;
                    }
                }
                break;
            case U8_IMAGE:
                for (int i = 0; i < n; i++) {
                    out[i] = b.get() & 0xFF;
                }
                return out;
            default:
                throw CleaveException.invalid("unsupported tensor encoding " + encoding);
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(out[i])) {
                throw CleaveException.invalid("tensor values must be finite; value " + i + " (row " + i / rowSize + ") is " + out[i]);
            }
        }
        return out;
    }
}
