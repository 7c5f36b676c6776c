package io.cleave.edge.cloud;

import io.cleave.core.engine.Tensor;
import io.cleave.core.plan.Plan;
import io.cleave.edge.race.Candidate;

/**
 * Where the edge sends work it does not finish itself. The race only sees candidates and the
 * end of the path; wire formats, channels and first-result measurements stay behind this seam.
 * Nothing here ever blocks the caller on the network: the local path never waits on the cloud.
 */
public interface CloudPath {
    /** Whether any worker is there to offload to now. */
    boolean available();

    /**
     * Starts offloading one request: the raw image at split 0 ({@code tokens} null), else the
     * tokens after {@code plan.split()}; {@code deadline} is absolute on the edge's clock. Results
     * and the end of the path arrive on {@code listener}, from any thread.
     */
    Offload offload(String requestId, Plan plan, byte[] pixels, Tensor tokens, long deadline, Listener listener);

    /** Hears one offload's results. */
    interface Listener {
        /** A validated exit result from the cloud. */
        void candidate(Candidate c);

        /** The cloud path of this request is over (results done, failed, refused or cancelled). */
        void ended();
    }

    /** One offload in flight. */
    interface Offload {
        /** Payload bytes handed to the network (0 until then). */
        long bytesSent();

        /**
         * The request was answered: stop the stream. {@code deadlineWithoutResult}: it was answered
         * at its deadline before any cloud result came, which is evidence about the link.
         */
        void cancel(boolean deadlineWithoutResult);
    }
}
