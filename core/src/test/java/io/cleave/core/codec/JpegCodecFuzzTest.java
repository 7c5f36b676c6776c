package io.cleave.core.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import java.util.Arrays;

/**
 * A JPEG split-0 payload from a caller decodes to exactly the input's pixels, or fails
 * INVALID_ARGUMENT; nothing else may come out, and no header may make the worker decode more
 * pixels than the input has.
 *
 * <p>Input: byte 0 picks the input's geometry (channels x height x width, as a pack declares it),
 * the rest is the payload.
 */
class JpegCodecFuzzTest {
    private static final int[][] GEOMETRIES = {{1, 28, 28}, {3, 28, 28}, {1, 8, 8}, {3, 16, 16}};

    @FuzzTest
    void decode(byte[] data) {
        if (data.length < 1) {
            return;
        }
        int[] g = GEOMETRIES[(data[0] & 0xFF) % GEOMETRIES.length];
        byte[] jpeg = Arrays.copyOfRange(data, 1, data.length);
        float[] values;
        try {
            values = JpegCodec.decode(jpeg, g[0], g[1], g[2]);
        } catch (CleaveException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            return;
        }
        assertThat(values).hasSize(g[0] * g[1] * g[2]);
        for (float v : values) {
            assertThat(v).isBetween(0f, 255f);
        }
    }
}
