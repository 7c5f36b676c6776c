package io.cleave.core.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Blocks a plan leaves out. A pre-norm ViT block is residual, so a skipped block passes its tokens on unchanged: the
 * blocks and exits after it read the tokens of the last block run (Sreedhar et al., 2024: multi-exit ViTs lose little
 * accuracy to such pruning without retraining). The edge skips those up to the split, the worker those after it
 * ({@code InferHeader.skip_blocks}); what each set costs in accuracy is measured per exit in the pack
 * ({@code blockSkipping}, onnx-models/add_block_skipping.py).
 *
 * <pre>{@code
 * BlockSkip s = BlockSkip.parse("5,6");   // leave out blocks 5 and 6
 * s.skips(5);                              // true
 * }</pre>
 *
 * @param mask bit k set: block k (1-based, at most 30) is skipped
 */
public record BlockSkip(int mask) {
    /** Every block runs. */
    public static final BlockSkip NONE = new BlockSkip(0);

    public BlockSkip {
        if (mask < 0 || (mask & 1) != 0) {
            throw new IllegalArgumentException("blocks are numbered from 1 to 30, mask " + Integer.toBinaryString(mask));
        }
    }

    /** The set of these blocks (1..30). */
    public static BlockSkip of(List<Integer> blocks) {
        int m = 0;
        for (int k : blocks) {
            if (k < 1 || k > 30) {
                throw new IllegalArgumentException("block " + k + " cannot be skipped: blocks are numbered 1 to 30");
            }
            m |= 1 << k;
        }
        return new BlockSkip(m);
    }

    /** {@code none}, or blocks comma-separated ({@code 5,6}); an {@link IllegalArgumentException} names what is allowed. */
    public static BlockSkip parse(String text) {
        String s = text.trim();
        if (s.isEmpty() || s.equalsIgnoreCase("none")) {
            return NONE;
        }
        List<Integer> blocks = new ArrayList<>();
        for (String part : s.split(",")) {
            try {
                blocks.add(Integer.parseInt(part.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("blocks to skip '" + text + "': none, or block numbers comma-separated (e.g. 5,6)");
            }
        }
        return of(blocks);
    }

    public boolean skips(int block) {
        return block >= 1 && block <= 30 && (mask & (1 << block)) != 0;
    }

    public boolean any() {
        return mask != 0;
    }

    /** The skipped blocks in order. */
    public List<Integer> blocks() {
        List<Integer> out = new ArrayList<>();
        for (int k = 1; k <= 30; k++) {
            if (skips(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** Those of these blocks in {@code (from, to]}: the part one side of a split runs. */
    public BlockSkip within(int from, int to) {
        int m = 0;
        for (int k = from + 1; k <= Math.min(to, 30); k++) {
            if (skips(k)) {
                m |= 1 << k;
            }
        }
        return new BlockSkip(m);
    }

    /** The lowest skipped block, or Integer.MAX_VALUE. */
    public int first() {
        return mask == 0 ? Integer.MAX_VALUE : Integer.numberOfTrailingZeros(mask);
    }

    @Override
    public String toString() {
        return any() ? String.join(",", blocks().stream().map(String::valueOf).toList()) : "none";
    }
}
