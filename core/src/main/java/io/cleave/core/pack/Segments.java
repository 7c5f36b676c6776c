package io.cleave.core.pack;

import java.util.ArrayList;
import java.util.List;

/**
 * The one numbering of a pack's segments and the one place their tensors' shapes are built, used
 * wherever a segment is run, measured, profiled or sent: segment 0 is the stem, {@code k}
 * (1..blocks) is block k, {@code blocks + 1 + e} is exit e.
 *
 * <p>Shapes lead with the batch: the stem takes {@code [B, C, H, W]} (the manifest's input shape),
 * blocks and exits take tokens {@code [B, T, D]}, exits give logits {@code [B, classes]}. A stream
 * entering the cloud at split 0 carries one input, at split s > 0 the tokens after block s, batch 1.
 */
public final class Segments {
    public static final int STEM = 0;

    /** What a segment is. */
    public enum Kind { STEM, BLOCK, EXIT }

    private final int blocks;
    private final int exits;
    private final List<Integer> input; // [C, H, W]; null when only numbering is known
    private final int tokens;
    private final int dim;
    private final int classes;

    private Segments(int blocks, int exits, List<Integer> input, int tokens, int dim, int classes) {
        if (blocks < 1 || exits < 0) {
            throw new IllegalArgumentException("a pack has at least one block and no negative exits, got " + blocks + " and " + exits);
        }
        this.blocks = blocks;
        this.exits = exits;
        this.input = input == null ? null : List.copyOf(input);
        this.tokens = tokens;
        this.dim = dim;
        this.classes = classes;
    }

    /** Numbering and shapes of {@code pack}'s segments. */
    public static Segments of(ModelPack pack) {
        Manifest m = pack.manifest();
        return new Segments(pack.blockCount(), pack.exitCount(), m.input().shape(), m.tokens().count(), m.tokens().dim(),
                pack.classes());
    }

    /** The numbering alone, for a pack known only by its counts (its shapes are then unknown here). */
    public static Segments numbering(int blocks, int exits) {
        return new Segments(blocks, exits, null, 0, 0, 0);
    }

    /** How many segments there are. */
    public int count() {
        return blocks + 1 + exits;
    }

    public int stem() {
        return STEM;
    }

    public int block(int k) {
        if (k < 1 || k > blocks) {
            throw new IllegalArgumentException("block " + k + " outside 1.." + blocks);
        }
        return k;
    }

    public int exit(int e) {
        if (e < 0 || e >= exits) {
            throw new IllegalArgumentException("exit " + e + " outside 0.." + (exits - 1));
        }
        return blocks + 1 + e;
    }

    public Kind kind(int segment) {
        check(segment);
        return segment == STEM ? Kind.STEM : segment <= blocks ? Kind.BLOCK : Kind.EXIT;
    }

    public boolean isExit(int segment) {
        return segment > blocks && segment < count();
    }

    /** The block a block segment runs, or the exit an exit segment runs (0 for the stem). */
    public int indexOf(int segment) {
        return kind(segment) == Kind.EXIT ? segment - blocks - 1 : segment;
    }

    /** A name for logs and reports: "stem", "block 3", "exit 1". */
    public String name(int segment) {
        return switch (kind(segment)) {
            case STEM -> "stem";
            case BLOCK -> "block " + segment;
            case EXIT -> "exit " + indexOf(segment);
        };
    }

    /** The stem's input for a batch: {@code [batch, C, H, W]}. */
    public int[] inputShape(int batch) {
        List<Integer> in = shapes();
        int[] s = new int[in.size() + 1];
        s[0] = batch;
        for (int i = 0; i < in.size(); i++) {
            s[i + 1] = in.get(i);
        }
        return s;
    }

    /** Tokens between blocks for a batch: {@code [batch, T, D]}. */
    public int[] tokenShape(int batch) {
        shapes();
        return new int[] {batch, tokens, dim};
    }

    /** Tokens {@code [batch, count, D]}: {@code count} below T after a token reduction. */
    public int[] tokenShape(int batch, int count) {
        shapes();
        return new int[] {batch, count, dim};
    }

    /** Tokens between blocks, the full count T. */
    public int tokens() {
        shapes();
        return tokens;
    }

    /** An exit's logits for a batch: {@code [batch, classes]}. */
    public int[] logitsShape(int batch) {
        shapes();
        return new int[] {batch, classes};
    }

    /**
     * What a stream entering the cloud at {@code split} carries, batch 1 first: the input
     * {@code [1, C, H, W]} at split 0, the tokens {@code [1, T, D]} after block {@code split} otherwise.
     */
    public List<Integer> payloadShape(int split) {
        return payloadShape(split, split == 0 ? 0 : tokens);
    }

    /** As {@link #payloadShape(int)}, with {@code count} tokens after block {@code split} (a reduction's). */
    public List<Integer> payloadShape(int split, int count) {
        if (split < 0 || split > blocks) {
            throw new IllegalArgumentException("split " + split + " outside 0.." + blocks);
        }
        List<Integer> out = new ArrayList<>();
        for (int d : split == 0 ? inputShape(1) : tokenShape(1, count)) {
            out.add(d);
        }
        return List.copyOf(out);
    }

    /** Elements in one sample of {@code shape} (its batch dimension left out). */
    public static int sampleSize(int[] shape) {
        int n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    private List<Integer> shapes() {
        if (input == null) {
            throw new IllegalStateException("these segments were numbered from counts alone; their shapes need the pack");
        }
        return input;
    }

    private void check(int segment) {
        if (segment < 0 || segment >= count()) {
            throw new IllegalArgumentException("segment " + segment + " outside 0.." + (count() - 1));
        }
    }
}
