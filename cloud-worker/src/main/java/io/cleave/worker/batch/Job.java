package io.cleave.worker.batch;

import io.cleave.core.plan.BlockSkip;
import io.cleave.core.time.Deadline;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;

/**
 * One request inside the worker: its current tokens (or preprocessed image) and how far it got.
 *
 * @param requestId echoed in results
 * @param values tokens after block {@code split}, or the preprocessed image when split is 0
 * @param split blocks already run (0: values is the image)
 * @param keptTokens 0: the tokens are the full count; else how many a reduction at the split left (they batch only
 *     with jobs of the same count)
 * @param skip blocks after the split left out: the job passes through their stages without compute (exits after them
 *     read the tokens as they are)
 * @param deadline when the request stops being useful
 * @param exits exits wanted (indices into the pack's exits); each is sent once, in block order
 * @param listener receives each exit's result as soon as it is computed
 */
public record Job(String requestId, float[] values, int split, int keptTokens, BlockSkip skip, Deadline deadline, BitSet exits, ExitListener listener) {

    /** A job that runs every block after its split. */
    public Job(String requestId, float[] values, int split, int keptTokens, Deadline deadline, BitSet exits, ExitListener listener) {
        this(requestId, values, split, keptTokens, BlockSkip.NONE, deadline, exits, listener);
    }

    /** A job carrying every token (no reduction at its split). */
    public Job(String requestId, float[] values, int split, Deadline deadline, BitSet exits, ExitListener listener) {
        this(requestId, values, split, 0, BlockSkip.NONE, deadline, exits, listener);
    }

    /** State the scheduler keeps for a job while it moves through the block queues. */
    static final class State {
        final Job job;
        final CompletableFuture<Void> done;
        final long seq;
        float[] values;
        int stage; // 0: needs the stem; k: needs block k
        final int tokens; // tokens between blocks: the full count, or the reduction's
        int exitsLeft;
        long enqueuedAt;
        long queueNanos;
        long computeNanos;
        int maxBatch;

        State(Job job, CompletableFuture<Void> done, long seq, long now, int tokens) {
            this.job = job;
            this.done = done;
            this.seq = seq;
            this.values = job.values();
            this.stage = job.split() == 0 ? 0 : job.split() + 1;
            this.exitsLeft = job.exits().cardinality();
            this.tokens = tokens;
            this.enqueuedAt = now;
        }
    }
}
