package io.cleave.core.plan;

import io.cleave.core.pack.ModelPack;

/**
 * The one rule of where a request's exits are computed, for a device holding blocks 1..kMax.
 *
 * <ul>
 *   <li>The device holds the exits after its blocks ({@link #held}).
 *   <li>For a plan it runs blocks 1..{@link #localTo}: the plan's local blocks, raised to the split
 *       when it offloads (the tokens are computed here) and to the first held exit (at worst that
 *       exit answers), never beyond kMax. Its local exits are the held exits within them.
 *   <li>The cloud computes the exits after the split ({@link #inCloud}).
 * </ul>
 */
public final class ExitPlacement {
    private final int[] exitBlock; // exit e follows block exitBlock[e], in order
    private final int kMax;
    private final int firstHeldBlock; // 0: no exit held

    private ExitPlacement(int[] exitBlock, int kMax) {
        this.exitBlock = exitBlock.clone();
        this.kMax = kMax;
        this.firstHeldBlock = exitBlock.length > 0 && held(exitBlock[0], kMax) ? exitBlock[0] : 0;
    }

    public static ExitPlacement of(ModelPack pack, int kMax) {
        int[] b = new int[pack.exitCount()];
        for (int e = 0; e < b.length; e++) {
            b[e] = pack.exit(e).afterBlock();
        }
        return new ExitPlacement(b, kMax);
    }

    public static ExitPlacement of(PackStats pack, int kMax) {
        int[] b = new int[pack.exits()];
        for (int e = 0; e < b.length; e++) {
            b[e] = pack.exitBlock(e);
        }
        return new ExitPlacement(b, kMax);
    }

    /** Blocks the device holds. */
    public int kMax() {
        return kMax;
    }

    /** Whether the device holds exit {@code exit} (it follows a block the device holds). */
    public boolean held(int exit) {
        return held(exitBlock[exit], kMax);
    }

    /** Whether a device holding blocks 1..{@code kMax} holds an exit following block {@code exitBlock}. */
    public static boolean held(int exitBlock, int kMax) {
        return exitBlock <= kMax;
    }

    /** The block after which the first held exit comes; 0 when the device holds none. */
    public int firstHeldBlock() {
        return firstHeldBlock;
    }

    /**
     * The last block the device runs for {@code plan}.
     *
     * @param offload whether the plan does offload (a caller may know it cannot: no worker, or
     *     nothing left after the split)
     */
    public int localTo(Plan plan, boolean offload) {
        return Math.min(kMax, Math.max(Math.max(plan.localBlocks(), offload ? plan.split() : 0), firstHeldBlock));
    }

    /** As {@link #localTo(Plan, boolean)} for a plan that offloads when it says so. */
    public int localTo(Plan plan) {
        return localTo(plan, plan.offload());
    }

    /** Whether exit {@code exit} is one of the device's own when it runs blocks 1..{@code localTo}. */
    public boolean local(int exit, int localTo) {
        return held(exitBlock[exit], Math.min(localTo, kMax));
    }

    /** Whether the cloud computes an exit following block {@code exitBlock} for a request split after block {@code split}. */
    public static boolean inCloud(int exitBlock, int split) {
        return exitBlock > split;
    }
}
