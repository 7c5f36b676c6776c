package io.cleave.core.pack;

/**
 * The one numbering of a pack's segments, used wherever a segment is measured or profiled:
 * 0 is the stem, {@code k} (1..blocks) is block k, {@code blocks + 1 + e} is exit e.
 */
public final class Segments {
    public static final int STEM = 0;

    private final int blocks;
    private final int exits;

    public Segments(int blocks, int exits) {
        this.blocks = blocks;
        this.exits = exits;
    }

    public static Segments of(ModelPack pack) {
        return new Segments(pack.blockCount(), pack.exitCount());
    }

    /** How many segments there are. */
    public int count() {
        return blocks + 1 + exits;
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

    public boolean isExit(int segment) {
        return segment > blocks && segment < count();
    }
}
