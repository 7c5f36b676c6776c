package io.cleave.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.time.ManualClock;
import io.cleave.proto.v1.WorkerHeartbeat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkerRegistryTest {
    static WorkerHeartbeat hb(String id, int queued) {
        return WorkerHeartbeat.newBuilder().setWorkerId(id).setTarget(id + ":1").setModelId("m").setQueued(queued).build();
    }

    @Test
    void assignment_goesToTheLeastLoadedLiveWorker() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 9));
        r.heartbeat(hb("b", 2));
        assertThat(r.assign("m").getWorkerTarget()).isEqualTo("b:1");
        assertThat(r.assign("m").getLiveWorkers()).isEqualTo(2);
    }

    @Test
    void aBurstOfEdges_isSpreadAcrossWorkersBetweenHeartbeats() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 0));
        int toA = 0;
        for (int i = 0; i < 10; i++) {
            if (r.assign("m").getWorkerTarget().equals("a:1")) {
                toA++;
            }
        }
        assertThat(toA).isEqualTo(5);
    }

    @Test
    void edgesAskingAgainFromTheirWorker_areNoNewArrivals_soTheyStayPut() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 0));
        String e1 = r.assign("m").getWorkerTarget(); // a new edge: counted on its worker
        String e2 = r.assign("m").getWorkerTarget(); // the next goes to the other one
        assertThat(e2).isNotEqualTo(e1);
        // within the same heartbeat period both edges ask again from where they are: nobody moves
        // (counted again as arrivals, e1's ask made its worker look busier and sent it to the other)
        for (int i = 0; i < 5; i++) {
            assertThat(r.assign("m", e1).getWorkerTarget()).isEqualTo(e1);
            assertThat(r.assign("m", e2).getWorkerTarget()).isEqualTo(e2);
        }
    }

    @Test
    void anEdgeOnAWorker_movesOnlyForAClearlyShorterQueue() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 1)); // the edge's own request, queued at a when a heartbeated
        r.heartbeat(hb("b", 0));
        assertThat(r.assign("m", "a:1").getWorkerTarget()).as("one request shorter: stay").isEqualTo("a:1");
        r.heartbeat(hb("a", 4));
        assertThat(r.assign("m", "a:1").getWorkerTarget()).as("four shorter: move").isEqualTo("b:1");
        assertThat(r.assign("m").getWorkerTarget()).as("a new edge takes the shortest").isEqualTo("b:1");
    }

    @Test
    void silentWorker_isDrainedAfterThreePeriods_andItsEdgesMove() {
        ManualClock clock = new ManualClock();
        WorkerRegistry r = new WorkerRegistry(clock, TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 5));
        assertThat(r.assign("m").getWorkerTarget()).isEqualTo("a:1");
        for (int i = 0; i < 3; i++) { // only b keeps beating
            clock.advance(500, TimeUnit.MILLISECONDS);
            r.heartbeat(hb("b", 5));
        }
        clock.advance(10, TimeUnit.MILLISECONDS);
        assertThat(r.assign("m").getWorkerTarget()).isEqualTo("b:1");
        assertThat(r.live("m")).extracting(WorkerHeartbeat::getWorkerId).containsExactly("b");
    }

    @Test
    void fullRegistry_refusesNewWorkers_keepsKnownOnes_andHasRoomOnceASilentOneIsDrained() {
        ManualClock clock = new ManualClock();
        WorkerRegistry r = new WorkerRegistry(clock, TimeUnit.MILLISECONDS.toNanos(500), 2);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 0));
        assertThatThrownBy(() -> r.heartbeat(hb("c", 0)))
                .isInstanceOf(CleaveException.class)
                .hasMessage("registry full: 2 live workers, no room for another")
                .extracting(e -> ((CleaveException) e).code()).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
        clock.advance(1_000, TimeUnit.MILLISECONDS);
        r.heartbeat(hb("b", 3)); // known: updated, full or not
        clock.advance(501, TimeUnit.MILLISECONDS); // a: silent for 1.501 s, over 3 periods
        r.heartbeat(hb("c", 0));
        assertThat(r.live("m")).extracting(WorkerHeartbeat::getWorkerId).containsExactly("b", "c");
    }

    @Test
    void anEdgeThatLostItsWorker_movesAtOnce_andNoOtherEdgeIsSentThereUntilTheWorkerHeartbeatsAgain() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 6));
        assertThat(r.assign("m", "a:1").getWorkerTarget()).as("a is shorter: stay").isEqualTo("a:1");
        assertThat(r.assign("m", "a:1", "a:1").getWorkerTarget()).as("lost a: moved, b's longer queue or not").isEqualTo("b:1");
        assertThat(r.assign("m").getWorkerTarget()).as("a new edge: not to the suspect a").isEqualTo("b:1");
        assertThat(r.assign("m", "a:1").getWorkerTarget()).as("an edge that still reaches a stays").isEqualTo("a:1");
        r.heartbeat(hb("a", 0)); // alive after all (the first edge's own network failed)
        assertThat(r.assign("m").getWorkerTarget()).as("a new edge: a again").isEqualTo("a:1");
    }

    @Test
    void anEdgeThatLostItsOnlyWorker_getsNoTarget_andKeepsWhatItHas() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        var a = r.assign("m", "a:1", "a:1");
        assertThat(a.getWorkerTarget()).isEmpty();
        assertThat(a.getLiveWorkers()).isEqualTo(1);
    }

    @Test
    void aLostReport_countsOnlyFromAnEdgeOnThatWorker() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 1)); // one longer than a: an edge on b stays
        assertThat(r.assign("m", "b:1", "a:1").getWorkerTarget()).as("an edge on b naming a: no move").isEqualTo("b:1");
        assertThat(r.assign("m", "", "a:1").getWorkerTarget()).as("an edge on no worker naming a").isEqualTo("a:1");
        assertThat(r.assign("m").getWorkerTarget()).as("a is not suspect: a new edge still goes there").isEqualTo("a:1");
        assertThat(r.assign("m", "a:1", "nobody:1").getWorkerTarget()).as("a lost target no worker has changes nothing").isEqualTo("a:1");
    }

    @Test
    void aDrainingWorker_takesNoEdge_andItsEdgesMoveAtTheirNextAsk() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        r.heartbeat(hb("b", 9));
        assertThat(r.assign("m", "a:1").getWorkerTarget()).isEqualTo("a:1");
        r.heartbeat(hb("a", 0).toBuilder().setDraining(true).build());
        assertThat(r.assign("m", "a:1").getWorkerTarget()).as("its edge moves").isEqualTo("b:1");
        assertThat(r.assign("m").getWorkerTarget()).as("a new edge").isEqualTo("b:1");
        assertThat(r.live("m")).extracting(WorkerHeartbeat::getWorkerId).containsExactly("b");
        assertThat(r.assign("m").getLiveWorkers()).isEqualTo(1);
    }

    @Test
    void noWorkerForTheModel_meansAnEmptyAssignment() {
        WorkerRegistry r = new WorkerRegistry(new ManualClock(), TimeUnit.MILLISECONDS.toNanos(500), CoordinatorConfig.DEFAULT_MAX_WORKERS);
        r.heartbeat(hb("a", 0));
        assertThat(r.assign("other").getWorkerTarget()).isEmpty();
        assertThat(r.assign("other").getLiveWorkers()).isZero();
    }
}
