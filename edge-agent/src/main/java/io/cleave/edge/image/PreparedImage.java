package io.cleave.edge.image;

/**
 * An encoded image brought to the pack's input: the 8-bit pixels the model sees, and what was done
 * to get them.
 *
 * @param pixels {@code [C][H][W]} bytes at the pack's input size, as the raw-pixel API takes them
 * @param format "jpeg" or "png"
 * @param width the image's own width, before any resize
 * @param height the image's own height
 * @param channels the image's own channels: 1 grayscale, 3 RGB
 * @param preprocessing what was done, in words, e.g. "640x427 RGB jpeg, resized per the pack: ..."
 * @param adapted true when the edge fitted the image to a version-1 pack by its own rule (grayscale,
 *     resize, centre crop) because the pack declares no preprocessing; false when the pack's own
 *     preprocessing was applied or the image came at the input's size
 * @param decodeNanos time spent checking, decoding, resizing and cropping
 */
public record PreparedImage(byte[] pixels, String format, int width, int height, int channels, String preprocessing,
        boolean adapted, long decodeNanos) {}
