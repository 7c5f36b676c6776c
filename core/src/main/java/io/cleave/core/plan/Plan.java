package io.cleave.core.plan;

import io.cleave.proto.v1.Encoding;

/**
 * What to do with one request.
 *
 * @param offload whether to send anything to a cloud worker
 * @param split 0: send the input (encoding U8_IMAGE); k: send the tokens after block k
 * @param encoding how the payload travels
 * @param threshold answer at once from a local exit whose calibrated confidence reaches this
 *     (above 1 disables early local answers)
 * @param localBlocks run local blocks up to here (racing the cloud); at least {@code split}
 */
public record Plan(boolean offload, int split, Encoding encoding, double threshold, int localBlocks) {
    public static Plan edgeOnly(int kMax, double threshold) {
        return new Plan(false, kMax, Encoding.FP32, threshold, kMax);
    }

    @Override
    public String toString() {
        return offload ? "offload split=" + split + " " + encoding + " threshold=" + threshold + " local<=" + localBlocks
                : "edge-only threshold=" + threshold + " local<=" + localBlocks;
    }
}
