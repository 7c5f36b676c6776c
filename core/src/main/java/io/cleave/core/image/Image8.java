package io.cleave.core.image;

/**
 * An 8-bit image as planes: {@code channels} planes of {@code height x width} bytes, row-major,
 * channel-major ({@code [C][H][W]}, the layout a model's input has). 1 channel is grayscale, 3 is RGB.
 */
public record Image8(int width, int height, int channels, byte[] planes) {
    public Image8 {
        if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
            throw new IllegalArgumentException("bad image geometry " + width + "x" + height + "x" + channels);
        }
        if (planes.length != width * height * channels) {
            throw new IllegalArgumentException("planes hold " + planes.length + " bytes, not " + width * height * channels);
        }
    }

    /** Value of channel {@code c} at ({@code x}, {@code y}), 0..255. */
    public int get(int c, int x, int y) {
        return planes[(c * height + y) * width + x] & 0xFF;
    }

    /** The {@code w x h} window whose top-left corner is ({@code left}, {@code top}). */
    public Image8 crop(int left, int top, int w, int h) {
        if (left < 0 || top < 0 || left + w > width || top + h > height || w <= 0 || h <= 0) {
            throw new IllegalArgumentException("crop " + w + "x" + h + "+" + left + "+" + top + " outside " + width + "x" + height);
        }
        byte[] out = new byte[w * h * channels];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(planes, (c * height + top + y) * width + left, out, (c * h + y) * w, w);
            }
        }
        return new Image8(w, h, channels, out);
    }

    /**
     * This image as one grayscale channel, as PIL's {@code convert("L")} does (ITU-R 601-2 luma,
     * {@code L = R*299/1000 + G*587/1000 + B*114/1000} in PIL's 16-bit fixed point, rounded); a
     * grayscale image is returned as is.
     */
    public Image8 grayscale() {
        if (channels == 1) {
            return this;
        }
        int n = width * height;
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) {
            int r = planes[i] & 0xFF;
            int g = planes[n + i] & 0xFF;
            int b = planes[2 * n + i] & 0xFF;
            out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return new Image8(width, height, 1, out);
    }

    /** This image as RGB, as PIL's {@code convert("RGB")} does: a grayscale image replicated to three channels; an RGB one as is. */
    public Image8 asRgb() {
        if (channels == 3) {
            return this;
        }
        byte[] rgb = new byte[planes.length * 3];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(planes, 0, rgb, c * planes.length, planes.length);
        }
        return new Image8(width, height, 3, rgb);
    }
}
