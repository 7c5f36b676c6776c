package io.cleave.core.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.error.CleaveException;
import io.cleave.proto.v1.Encoding;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TensorCodecTest {
    static final int ROW = 8;

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = TensorCodecTest.class.getResourceAsStream("/codec/" + name)) {
            return in.readAllBytes();
        }
    }

    static float[] reference() throws IOException {
        byte[] b = fixture("tensor_3x8.fp32.bin");
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Test
    void fp32_encodesToGoldenBytes() throws IOException {
        assertThat(TensorCodec.encode(reference(), ROW, Encoding.FP32)).containsExactly(fixture("tensor_3x8.fp32.bin"));
    }

    @Test
    void fp16_encodesToNumpysGoldenBytes() throws IOException {
        assertThat(TensorCodec.encode(reference(), ROW, Encoding.FP16)).containsExactly(fixture("tensor_3x8.fp16.bin"));
    }

    @Test
    void int8_encodesToGoldenBytes_withPerTokenScale() throws IOException {
        assertThat(TensorCodec.encode(reference(), ROW, Encoding.INT8)).containsExactly(fixture("tensor_3x8.int8.bin"));
    }

    @Test
    void fp32_roundTripsExactly() throws IOException {
        float[] x = reference();
        assertThat(TensorCodec.decode(TensorCodec.encode(x, ROW, Encoding.FP32), 3, ROW, Encoding.FP32)).containsExactly(x);
    }

    @Test
    void fp16_roundTripWithinHalfPrecision() {
        float[] x = randomTokens(50 * 64, 3f);
        float[] y = TensorCodec.decode(TensorCodec.encode(x, 64, Encoding.FP16), 50, 64, Encoding.FP16);
        for (int i = 0; i < x.length; i++) {
            assertThat(Math.abs(y[i] - x[i])).isLessThanOrEqualTo(Math.abs(x[i]) * 0x1p-11f + 0x1p-24f);
        }
    }

    @Test
    void int8_roundTripWithinHalfAStepPerToken() {
        float[] x = randomTokens(50 * 64, 5f);
        float[] y = TensorCodec.decode(TensorCodec.encode(x, 64, Encoding.INT8), 50, 64, Encoding.INT8);
        for (int r = 0; r < 50; r++) {
            float max = 0;
            for (int i = r * 64; i < (r + 1) * 64; i++) {
                max = Math.max(max, Math.abs(x[i]));
            }
            for (int i = r * 64; i < (r + 1) * 64; i++) {
                assertThat(Math.abs(y[i] - x[i])).isLessThanOrEqualTo(max / 127f * 0.5f * 1.0001f);
            }
        }
    }

    @Test
    void half_handlesSpecialValuesLikeIeee() {
        assertThat(Half.toFloat(Half.fromFloat(65520f))).isEqualTo(Float.POSITIVE_INFINITY); // rounds up past max
        assertThat(Half.toFloat(Half.fromFloat(65504f))).isEqualTo(65504f);
        assertThat(Half.toFloat(Half.fromFloat(-0f))).isEqualTo(-0f);
        assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(Float.NaN)))).isTrue();
        assertThat(Half.toFloat(Half.fromFloat(0x1p-24f))).isEqualTo(0x1p-24f); // smallest subnormal
        assertThat(Half.toFloat(Half.fromFloat(0x1p-26f))).isEqualTo(0f); // underflows to zero
        for (int h = 0; h < 0x7C00; h++) { // every finite positive half survives a round trip
            assertThat(Half.fromFloat(Half.toFloat((short) h))).isEqualTo((short) h);
        }
    }

    @Test
    void truncatedPayload_isRejectedWithSizes() throws IOException {
        byte[] b = fixture("tensor_3x8.fp16.bin");
        assertThatThrownBy(() -> TensorCodec.decode(java.util.Arrays.copyOf(b, b.length - 3), 3, ROW, Encoding.FP16))
                .isInstanceOf(CleaveException.class)
                .hasMessageContaining("must be 48 bytes, got 45 (truncated)");
    }

    @Test
    void nanValue_isRejectedNamingItsPosition() {
        float[] x = new float[16];
        x[11] = Float.NaN;
        byte[] b = TensorCodec.encode(x, ROW, Encoding.FP32);
        assertThatThrownBy(() -> TensorCodec.decode(b, 2, ROW, Encoding.FP32))
                .hasMessageContaining("value 11 (row 1) is NaN");
    }

    @Test
    void infiniteFp16_isRejected() {
        byte[] b = TensorCodec.encode(new float[] {1, 2, 1e6f, 4}, 4, Encoding.FP16);
        assertThatThrownBy(() -> TensorCodec.decode(b, 1, 4, Encoding.FP16)).hasMessageContaining("is Infinity");
    }

    @Test
    void negativeInt8Scale_isRejected() throws IOException {
        byte[] b = fixture("tensor_3x8.int8.bin").clone();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, -1f);
        assertThatThrownBy(() -> TensorCodec.decode(b, 3, ROW, Encoding.INT8)).hasMessageContaining("int8 scale of row 0 is -1.0");
    }

    @Test
    void unspecifiedEncoding_isRejected() {
        assertThatThrownBy(() -> TensorCodec.decode(new byte[4], 1, 1, Encoding.ENCODING_UNSPECIFIED))
                .hasMessageContaining("unsupported tensor encoding");
    }

    @Test
    void image_decodesToRawPixelValues() {
        byte[] px = {0, 1, (byte) 128, (byte) 255};
        assertThat(TensorCodec.decode(px, 1, 4, Encoding.U8_IMAGE)).containsExactly(0f, 1f, 128f, 255f);
    }

    static float[] randomTokens(int n, float scale) {
        Random r = new Random(42);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * scale;
        }
        return x;
    }
}
