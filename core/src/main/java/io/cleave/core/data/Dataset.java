package io.cleave.core.data;

/**
 * Labelled images as raw bytes.
 *
 * @param images {@code count x height x width} uint8 pixels, row-major
 */
public record Dataset(byte[] images, int[] labels, int height, int width) {
    public int size() {
        return labels.length;
    }

    public int pixels() {
        return height * width;
    }

    /** Raw pixels of image {@code i} (copies). */
    public byte[] image(int i) {
        return java.util.Arrays.copyOfRange(images, i * pixels(), (i + 1) * pixels());
    }
}
