package io.cleave.core.data;

/**
 * Labelled images as raw bytes.
 *
 * @param images {@code count x channels x height x width} uint8 pixels, row-major (planar: {@code [C][H][W]} per image)
 * @param channels 1 for the grayscale IDX test set; 3 for RGB images prepared for a version-2 pack
 */
public record Dataset(byte[] images, int[] labels, int channels, int height, int width) {
    /** Grayscale images (one channel), as the IDX test set holds them. */
    public Dataset(byte[] images, int[] labels, int height, int width) {
        this(images, labels, 1, height, width);
    }

    public int size() {
        return labels.length;
    }

    /** Bytes per image: channels x height x width. */
    public int pixels() {
        return channels * height * width;
    }

    /** Raw pixels of image {@code i} (copies). */
    public byte[] image(int i) {
        return java.util.Arrays.copyOfRange(images, i * pixels(), (i + 1) * pixels());
    }
}
