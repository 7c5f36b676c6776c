package io.cleave.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;

/**
 * JPEG or PNG bytes from a user decode to an {@link Image8} within the pixel bound, or fail
 * INVALID_ARGUMENT; nothing else may come out (the decoder's own contract). The bound is a server's
 * (as the worker sets it for a JPEG input), smaller than {@link ImageDecoder#MAX_PIXELS} so that an
 * input claiming a large picture costs milliseconds, not seconds.
 */
class ImageDecoderFuzzTest {
    private static final long MAX_PIXELS = 256 * 256;

    @FuzzTest
    void decode(byte[] data) {
        Image8 img;
        try {
            img = ImageDecoder.decode(data, MAX_PIXELS);
        } catch (CleaveException e) {
            assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
            return;
        }
        assertThat((long) img.width() * img.height()).isLessThanOrEqualTo(MAX_PIXELS);
        assertThat(img.channels()).isIn(1, 3);
    }
}
