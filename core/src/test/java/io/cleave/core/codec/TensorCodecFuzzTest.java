package io.cleave.core.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.proto.v1.Encoding;
import java.util.Arrays;

/**
 * A tensor payload from a caller decodes to finite values, or fails INVALID_ARGUMENT; nothing else
 * may come out. The shape is the worker's (always positive, from the pack), the bytes are anyone's.
 *
 * <p>Input: byte 0 picks the encoding, byte 1 the rows (1-16), byte 2's low bit whether the row
 * size fits the payload exactly or is one too long; the rest is the payload.
 */
class TensorCodecFuzzTest {
    private static final Encoding[] ENCODINGS = {Encoding.FP32, Encoding.FP16, Encoding.INT8, Encoding.U8_IMAGE};

    @FuzzTest
    void decode(byte[] data) {
        if (data.length < 3) {
            return;
        }
        Encoding enc = ENCODINGS[(data[0] & 0xFF) % ENCODINGS.length];
        int rows = 1 + (data[1] & 0xFF) % 16;
        byte[] payload = Arrays.copyOfRange(data, 3, data.length);
        int perRow = payload.length / rows;
        int fitted = switch (enc) {
            case FP32 -> perRow / 4;
            case FP16 -> perRow / 2;
            case INT8 -> perRow - 4;
            default -> perRow;
        };
        int rowSize = Math.max(1, fitted) + (data[2] & 1);
        float[] values;
        try {
            values = TensorCodec.decode(payload, rows, rowSize, enc);
        } catch (CleaveException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            return;
        }
        assertThat(values).hasSize(rows * rowSize);
        for (float v : values) {
            assertThat(Float.isFinite(v)).as("decoded value %s", v).isTrue();
            if (enc == Encoding.U8_IMAGE) {
                assertThat(v).isBetween(0f, 255f);
            }
        }
        if (enc == Encoding.FP32 || enc == Encoding.FP16) { // every finite value survives a round trip bit for bit
            assertThat(TensorCodec.encode(values, rowSize, enc)).isEqualTo(payload);
        }
    }
}
