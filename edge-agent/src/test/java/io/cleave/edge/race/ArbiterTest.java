package io.cleave.edge.race;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class ArbiterTest {
    static final int FINAL = 3;
    static final long START = 1_000;
    static final long DEADLINE = 31_000_000;

    static Candidate local(int exit, float conf, long at) {
        return new Candidate(exit, 2 * (exit + 1), new float[] {conf, 1 - conf}, 0, conf, false, at);
    }

    static Candidate cloud(int exit, float conf, long at) {
        return new Candidate(exit, 2 * (exit + 1), new float[] {conf, 1 - conf}, 0, conf, true, at);
    }

    @Test
    void finalExit_answersAtOnce() {
        Arbiter a = new Arbiter("r", FINAL, 0.9, START, DEADLINE, true);
        assertThat(a.offer(local(0, 0.5f, 2_000))).isEmpty();
        Optional<Answer> ans = a.offer(cloud(3, 0.6f, 5_000_000));
        assertThat(ans).get().extracting(x -> x.candidate().exit(), Answer::reason, Answer::deadlineMet)
                .containsExactly(3, "final-exit", true);
        assertThat(ans.get().latencyNanos()).isEqualTo(5_000_000 - START);
    }

    @Test
    void confidentLocalExit_answersAtOnce_unconfidentOneWaits() {
        Arbiter a = new Arbiter("r", FINAL, 0.9, START, DEADLINE, true);
        assertThat(a.offer(local(0, 0.89f, 2_000))).isEmpty();
        assertThat(a.offer(local(1, 0.95f, 3_000))).get().extracting(Answer::reason).isEqualTo("confident");
    }

    @Test
    void deadline_answersWithTheDeepestArrivedExit() {
        Arbiter a = new Arbiter("r", FINAL, 0.99, START, DEADLINE, true);
        a.offer(local(0, 0.7f, 2_000));
        a.offer(cloud(2, 0.6f, 4_000));
        a.offer(local(1, 0.8f, 5_000)); // arrives later but is shallower than the cloud's exit 2
        Answer ans = a.deadline(DEADLINE).orElseThrow();
        assertThat(ans.candidate().exit()).isEqualTo(2);
        assertThat(ans.candidate().cloud()).isTrue();
        assertThat(ans.reason()).isEqualTo("deadline");
        assertThat(ans.deadlineMet()).isTrue();
    }

    @Test
    void cloudFailure_onlyRemovesCandidates_localAnswersWhenItIsDone() {
        Arbiter a = new Arbiter("r", FINAL, 0.99, START, DEADLINE, true);
        a.offer(local(0, 0.5f, 2_000));
        assertThat(a.cloudFinished(3_000)).isEmpty(); // local still computing
        a.offer(local(1, 0.6f, 4_000));
        Answer ans = a.localFinished(4_500).orElseThrow();
        assertThat(ans.candidate().exit()).isEqualTo(1);
        assertThat(ans.reason()).isEqualTo("all-done");
    }

    @Test
    void nothingByTheDeadline_firstResultAnswersLate() {
        Arbiter a = new Arbiter("r", FINAL, 0.99, START, DEADLINE, false);
        assertThat(a.deadline(DEADLINE)).isEmpty();
        Answer ans = a.offer(local(0, 0.5f, DEADLINE + 1_000)).orElseThrow();
        assertThat(ans.reason()).isEqualTo("late");
        assertThat(ans.deadlineMet()).isFalse();
    }

    @Test
    void exactlyOneAnswer_whateverArrivesAfterwards() {
        Arbiter a = new Arbiter("r", FINAL, 0.9, START, DEADLINE, true);
        Answer first = a.offer(local(0, 0.95f, 2_000)).orElseThrow();
        assertThat(a.offer(cloud(3, 0.99f, 3_000))).isEmpty();
        assertThat(a.deadline(DEADLINE)).isEmpty();
        assertThat(a.cloudFinished(DEADLINE)).isEmpty();
        assertThat(a.localFinished(DEADLINE)).isEmpty();
        assertThat(a.answer()).isSameAs(first);
    }

    @Test
    void edgeOnlyPlan_answersWhenLocalIsDone() {
        Arbiter a = new Arbiter("r", FINAL, 2.0, START, DEADLINE, false);
        a.offer(local(0, 0.5f, 2_000));
        a.offer(local(1, 0.6f, 3_000));
        assertThat(a.localFinished(3_100)).get().extracting(x -> x.candidate().exit()).isEqualTo(1);
    }

    @Test
    void withdrawn_nothingAnswersAfterwards() {
        Arbiter a = new Arbiter("r", FINAL, 0.99, START, DEADLINE, false);
        assertThat(a.deadline(DEADLINE)).isEmpty();
        assertThat(a.withdraw()).isTrue();
        assertThat(a.answered()).isTrue();
        assertThat(a.offer(local(3, 0.99f, DEADLINE + 1_000))).isEmpty();
        assertThat(a.withdraw()).as("only once").isFalse();
        assertThat(a.answer()).isNull();
    }

    @Test
    void answeredFirst_cannotBeWithdrawn() {
        Arbiter a = new Arbiter("r", FINAL, 0.9, START, DEADLINE, false);
        a.offer(local(0, 0.95f, 2_000));
        assertThat(a.withdraw()).isFalse();
        assertThat(a.answer().reason()).isEqualTo("confident");
    }

    @Test
    void exhausted_onlyWhenBothPathsEndedWithoutAnExit() {
        Arbiter a = new Arbiter("r", FINAL, 0.99, START, DEADLINE, true);
        assertThat(a.localFinished(2_000)).isEmpty();
        assertThat(a.exhausted()).as("the cloud may still answer").isFalse();
        assertThat(a.cloudFinished(3_000)).isEmpty();
        assertThat(a.exhausted()).isTrue();
        Arbiter b = new Arbiter("r", FINAL, 0.99, START, DEADLINE, true);
        b.offer(cloud(1, 0.5f, 2_000));
        b.cloudFinished(2_500);
        assertThat(b.localFinished(3_000)).isPresent();
        assertThat(b.exhausted()).isFalse();
    }
}
