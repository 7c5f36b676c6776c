package io.cleave.worker.batch;

/** Receives a job's exit results on the scheduler thread; must not block. */
public interface ExitListener {
    /**
     * One exit's result.
     *
     * @param last true when no further result will follow for this job
     */
    void onExit(ExitOutput output, boolean last);
}
