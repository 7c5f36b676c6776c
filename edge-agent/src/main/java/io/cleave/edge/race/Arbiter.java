package io.cleave.edge.race;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * Decides, for one request, which exit result answers it and when. Pure and synchronous: the
 * caller feeds it events with times from an injected clock.
 *
 * <p>Rule (the one the planner assumes): the answer is the deepest exit that has arrived, sent
 * at the earliest of: the final exit arriving; a local exit whose calibrated confidence reaches
 * the threshold; the deadline; or both paths being finished (nothing deeper can come). Failures
 * of the cloud path only remove candidates. Exactly one answer is ever produced.
 *
 * <p>Lock-free: the state is one immutable value swapped by compare-and-set, so no caller ever waits
 * for another. The deadline timer calls {@link #deadline} for every request on one thread; with a
 * monitor here it waited whenever a local-compute or gRPC thread holding it was preempted (2 cores,
 * a dozen runnable threads), and every deadline behind that one fired late with it: requests whose
 * first local exit came 5 ms in were answered "all-done" at 51 ms against a 40 ms deadline, while
 * the machine's own stalls stayed under 6 ms.
 */
public final class Arbiter {
    private final String requestId;
    private final int finalExit;
    private final double threshold;
    private final long startNanos;
    private final long deadlineNanos;
    private final AtomicReference<State> state;

    /** Everything the arbiter knows; replaced whole, never changed. */
    private record State(Candidate best, boolean localDone, boolean cloudDone, boolean deadlinePassed, boolean withdrawn,
            Answer answer) {
        boolean settled() {
            return answer != null || withdrawn;
        }

        State withBest(Candidate c) {
            return new State(c, localDone, cloudDone, deadlinePassed, withdrawn, answer);
        }

        State answered(Answer a) {
            return new State(best, localDone, cloudDone, deadlinePassed, withdrawn, a);
        }
    }

    /**
     * @param cloudExpected false when the plan does not offload (the cloud path is done from the start)
     */
    public Arbiter(String requestId, int finalExit, double threshold, long startNanos, long deadlineNanos, boolean cloudExpected) {
        this.requestId = requestId;
        this.finalExit = finalExit;
        this.threshold = threshold;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
        this.state = new AtomicReference<>(new State(null, false, !cloudExpected, false, false, null));
    }

    /** True once the request is settled: answered, or {@linkplain #withdraw withdrawn}. */
    public boolean answered() {
        return state.get().settled();
    }

    public Answer answer() {
        return state.get().answer();
    }

    /** A new exit result; returns the answer if this settles the request. */
    public Optional<Answer> offer(Candidate c) {
        return transition(s -> {
            if (s.settled()) {
                return s;
            }
            State n = s.best() == null || c.exit() > s.best().exit() ? s.withBest(c) : s;
            if (c.exit() == finalExit) {
                return settle(n, c.arrivedNanos(), "final-exit");
            }
            if (n.deadlinePassed()) { // nothing had arrived by the deadline: the first result answers, late
                return settle(n, c.arrivedNanos(), "late");
            }
            if (!c.cloud() && c.confidence() >= threshold && c == n.best()) {
                return settle(n, c.arrivedNanos(), "confident");
            }
            return n;
        });
    }

    public Optional<Answer> localFinished(long now) {
        return transition(s -> allDone(new State(s.best(), true, s.cloudDone(), s.deadlinePassed(), s.withdrawn(), s.answer()), now));
    }

    /** The cloud stream ended, normally or not. */
    public Optional<Answer> cloudFinished(long now) {
        return transition(s -> allDone(new State(s.best(), s.localDone(), true, s.deadlinePassed(), s.withdrawn(), s.answer()), now));
    }

    /** The deadline fired: answer with the best so far, if there is one. */
    public Optional<Answer> deadline(long now) {
        return transition(s -> {
            State n = new State(s.best(), s.localDone(), s.cloudDone(), true, s.withdrawn(), s.answer());
            return n.settled() || n.best() == null ? n : settle(n, now, "deadline");
        });
    }

    /** Both paths are over and no exit came: nothing can answer this request any more. */
    public boolean exhausted() {
        State s = state.get();
        return s.localDone() && s.cloudDone() && s.best() == null;
    }

    /**
     * Gives the request up without an answer (its caller answers with an error instead); false when
     * it was answered first. Nothing offered later answers it.
     */
    public boolean withdraw() {
        while (true) {
            State s = state.get();
            if (s.settled()) {
                return false;
            }
            if (state.compareAndSet(s, new State(s.best(), s.localDone(), s.cloudDone(), s.deadlinePassed(), true, s.answer()))) {
                return true;
            }
        }
    }

    /** Applies {@code step} atomically; the answer if this step is the one that answered. */
    private Optional<Answer> transition(UnaryOperator<State> step) {
        while (true) {
            State s = state.get();
            State n = step.apply(s);
            if (n == s || state.compareAndSet(s, n)) {
                return s.answer() == null && n.answer() != null ? Optional.of(n.answer()) : Optional.empty();
            }
        }
    }

    private State allDone(State s, long now) {
        return !s.settled() && s.localDone() && s.cloudDone() && s.best() != null ? settle(s, now, "all-done") : s;
    }

    private State settle(State s, long now, String reason) {
        return s.answered(new Answer(requestId, s.best(), now - startNanos, now - deadlineNanos <= 0, reason));
    }
}
