package io.cleave.edge.image;

import io.cleave.core.image.ImageDecoder;

/**
 * What the edge accepts from one encoded image: its size in bytes, and its pixel count (read from
 * the header, before anything is decoded). Both bound the memory and time one request can take.
 *
 * @param maxBytes largest encoded image, in bytes
 * @param maxPixels largest width x height (at most {@link ImageDecoder#MAX_PIXELS})
 */
public record ImageLimits(int maxBytes, long maxPixels) {
    /** 8 MiB of JPEG or PNG, 16 megapixels: a full-size phone photo passes, decoded it takes ~64 MB of the JDK's ARGB raster. */
    public static final ImageLimits DEFAULT = new ImageLimits(8 << 20, 16_000_000L);

    public ImageLimits {
        if (maxBytes <= 0 || maxPixels <= 0 || maxPixels > ImageDecoder.MAX_PIXELS) {
            throw new IllegalArgumentException("image limits must be positive, pixels at most " + ImageDecoder.MAX_PIXELS + ": "
                    + maxBytes + " bytes, " + maxPixels + " pixels");
        }
    }
}
