package io.cleave.edge.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.image.Image8;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The edge's rule for fitting any image to a version-1 pack's input. */
class ImageIntakeTest {
    @Test
    void version1Fit_coversTheInputAndCropsTheCentre_inGrayscaleAsPil() {
        // 60x30 RGB: left third red, middle third green, right third blue
        int w = 60;
        int h = 30;
        byte[] planes = new byte[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                planes[(x / 20) * w * h + y * w + x] = (byte) 255;
            }
        }
        Image8 fitted = ImageIntake.fitToVersion1(new Image8(w, h, 3, planes), 1, 10, 10);
        assertThat(fitted.width()).isEqualTo(10);
        assertThat(fitted.height()).isEqualTo(10);
        assertThat(fitted.channels()).isEqualTo(1);
        // height 30 -> 10, width 60 -> 20, centre crop keeps columns 5..14 of the resized: the middle (green) third
        // fully inside columns 8..11, PIL's L of pure green is 150
        for (int y = 0; y < 10; y++) {
            for (int x = 3; x <= 6; x++) {
                assertThat(fitted.get(0, x, y)).as("(%d,%d)", x, y).isEqualTo(150);
            }
        }
        // the crop's edges reach into the red (76) and blue (29) thirds
        assertThat(fitted.get(0, 0, 5)).isEqualTo(76);
        assertThat(fitted.get(0, 9, 5)).isEqualTo(29);
    }

    @Test
    void version1Fit_ofATallImage_keepsTheMiddleRows() {
        byte[] planes = new byte[10 * 40];
        Arrays.fill(planes, 10 * 15, 10 * 20, (byte) 200); // rows 15..19 bright: the top half of the centre crop
        Image8 fitted = ImageIntake.fitToVersion1(new Image8(10, 40, 1, planes), 1, 10, 10);
        assertThat(fitted.height()).isEqualTo(10);
        for (int y = 0; y < 10; y++) {
            assertThat(fitted.get(0, 4, y)).as("row %d", y).isEqualTo(y < 5 ? 200 : 0);
        }
    }
}
