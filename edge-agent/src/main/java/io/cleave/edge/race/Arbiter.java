package io.cleave.edge.race;

import java.util.Optional;

/**
 * Decides, for one request, which exit result answers it and when. Pure and synchronous: the
 * caller feeds it events with times from an injected clock.
 *
 * <p>Rule (the one the planner assumes): the answer is the deepest exit that has arrived, sent
 * at the earliest of: the final exit arriving; a local exit whose calibrated confidence reaches
 * the threshold; the deadline; or both paths being finished (nothing deeper can come). Failures
 * of the cloud path only remove candidates. Exactly one answer is ever produced.
 */
public final class Arbiter {
    private final String requestId;
    private final int finalExit;
    private final double threshold;
    private final long startNanos;
    private final long deadlineNanos;
    private Candidate best;
    private boolean localDone;
    private boolean cloudDone;
    private boolean deadlinePassed;
    private boolean withdrawn;
    private Answer answer;

    /**
     * @param cloudExpected false when the plan does not offload (the cloud path is done from the start)
     */
    public Arbiter(String requestId, int finalExit, double threshold, long startNanos, long deadlineNanos, boolean cloudExpected) {
        this.requestId = requestId;
        this.finalExit = finalExit;
        this.threshold = threshold;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
        this.cloudDone = !cloudExpected;
    }

    /** True once the request is settled: answered, or {@linkplain #withdraw withdrawn}. */
    public synchronized boolean answered() {
        return answer != null || withdrawn;
    }

    public synchronized Answer answer() {
        return answer;
    }

    /** A new exit result; returns the answer if this settles the request. */
    public synchronized Optional<Answer> offer(Candidate c) {
        if (answered()) {
            return Optional.empty();
        }
        if (best == null || c.exit() > best.exit()) {
            best = c;
        }
        if (c.exit() == finalExit) {
            return settle(c.arrivedNanos(), "final-exit");
        }
        if (deadlinePassed) { // nothing had arrived by the deadline: the first result answers, late
            return settle(c.arrivedNanos(), "late");
        }
        if (!c.cloud() && c.confidence() >= threshold && c == best) {
            return settle(c.arrivedNanos(), "confident");
        }
        return Optional.empty();
    }

    public synchronized Optional<Answer> localFinished(long now) {
        localDone = true;
        return maybeAllDone(now);
    }

    /** The cloud stream ended, normally or not. */
    public synchronized Optional<Answer> cloudFinished(long now) {
        cloudDone = true;
        return maybeAllDone(now);
    }

    /** The deadline fired: answer with the best so far, if there is one. */
    public synchronized Optional<Answer> deadline(long now) {
        deadlinePassed = true;
        if (answered() || best == null) {
            return Optional.empty();
        }
        return settle(now, "deadline");
    }

    /** Both paths are over and no exit came: nothing can answer this request any more. */
    public synchronized boolean exhausted() {
        return localDone && cloudDone && best == null;
    }

    /**
     * Gives the request up without an answer (its caller answers with an error instead); false when
     * it was answered first. Nothing offered later answers it.
     */
    public synchronized boolean withdraw() {
        if (answered()) {
            return false;
        }
        withdrawn = true;
        return true;
    }

    private Optional<Answer> maybeAllDone(long now) {
        if (!answered() && localDone && cloudDone && best != null) {
            return settle(now, "all-done");
        }
        return Optional.empty();
    }

    private Optional<Answer> settle(long now, String reason) {
        answer = new Answer(requestId, best, now - startNanos, now - deadlineNanos <= 0, reason);
        return Optional.of(answer);
    }
}
