package io.cleave.core.plan;

import io.cleave.core.reduce.TokenReduction;
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
 * @param reduction how the tokens after the split are reduced before they cross ({@link TokenReduction#NONE}: all
 *     cross); only at a split after a block of a reducible pack
 * @param skip blocks left out, on the edge (up to the split) and on the worker (after it); {@link BlockSkip#NONE}: none
 */
public record Plan(boolean offload, int split, Encoding encoding, double threshold, int localBlocks, TokenReduction reduction,
        BlockSkip skip) {
    public Plan {
        if (reduction == null || skip == null) {
            throw new IllegalArgumentException("a plan's token reduction and block skip are NONE, not null");
        }
        if (reduction.reduces() && split < 1) {
            throw new IllegalArgumentException("tokens are reduced only after a block, not at split " + split);
        }
    }

    /** A plan that sends every token and runs every block. */
    public Plan(boolean offload, int split, Encoding encoding, double threshold, int localBlocks) {
        this(offload, split, encoding, threshold, localBlocks, TokenReduction.NONE, BlockSkip.NONE);
    }

    /** A plan that runs every block. */
    public Plan(boolean offload, int split, Encoding encoding, double threshold, int localBlocks, TokenReduction reduction) {
        this(offload, split, encoding, threshold, localBlocks, reduction, BlockSkip.NONE);
    }

    public static Plan edgeOnly(int kMax, double threshold) {
        return new Plan(false, kMax, Encoding.FP32, threshold, kMax);
    }

    /** This plan with the tokens after its split reduced as {@code r} says. */
    public Plan withReduction(TokenReduction r) {
        return new Plan(offload, split, encoding, threshold, localBlocks, r, skip);
    }

    /** This plan with {@code s}'s blocks left out. */
    public Plan withSkip(BlockSkip s) {
        return new Plan(offload, split, encoding, threshold, localBlocks, reduction, s);
    }

    @Override
    public String toString() {
        String skipped = skip.any() ? " skip=" + skip : "";
        return offload ? "offload split=" + split + " " + encoding + (reduction.reduces() ? " tokens=" + reduction : "")
                + " threshold=" + threshold + " local<=" + localBlocks + skipped
                : "edge-only threshold=" + threshold + " local<=" + localBlocks + skipped;
    }
}
