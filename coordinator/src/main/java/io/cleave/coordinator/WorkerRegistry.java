package io.cleave.coordinator;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.time.NanoClock;
import io.cleave.proto.v1.Assignment;
import io.cleave.proto.v1.WorkerHeartbeat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live workers, from their heartbeats, on an injected clock. A worker silent for
 * {@code 3 x period} is drained (no longer assigned). Assignment is load-aware: the live worker
 * serving the model with the fewest queued requests, counting the edges newly sent to it since
 * its last heartbeat so that a burst of edges spreads out. An edge that asks again while already on
 * the chosen worker is no new arrival: its load is in the worker's own queue count already
 * (counted again, every edge's periodic ask made its own worker look busier at each period), and
 * it leaves its worker only for one whose queue is shorter by {@link #MOVE_MARGIN} or more. The registry holds at most {@code maxWorkers}:
 * a new worker past that is refused (RESOURCE_EXHAUSTED) until a silent one is drained.
 *
 * <p>Two signals move edges sooner than three silent periods. A <b>draining</b> heartbeat (a worker's graceful
 * shutdown) takes the worker out of assignment at once: edges on it move at their next ask. An edge that <b>lost</b>
 * its worker (its own connection failed: a crash is seen there within milliseconds) is moved off it, and the worker is
 * <i>suspect</i>: assigned to no edge that is not on it already, until its next heartbeat shows it alive. A report
 * counts only from an edge on that worker ({@code lostTarget} equal to its {@code currentTarget}), and an edge reports
 * once per loss (AssignmentFollower), so one loss costs a live worker at most one period of new arrivals, and never
 * moves the edges that still reach it.
 */
public final class WorkerRegistry {
    private final NanoClock clock;
    private final long periodNanos;
    private final int maxWorkers;
    private final Map<String, Entry> workers = new LinkedHashMap<>();

    private static final class Entry {
        WorkerHeartbeat last;
        long seenAt;
        int assignedSince;
        boolean suspect; // an edge lost it since its last heartbeat

        /** May take an edge that is not on it already. */
        boolean open() {
            return !suspect && !last.getDraining();
        }
    }

    public WorkerRegistry(NanoClock clock, long periodNanos, int maxWorkers) {
        if (maxWorkers < 1) {
            throw new IllegalArgumentException("maxWorkers must be >= 1, got " + maxWorkers);
        }
        this.clock = clock;
        this.periodNanos = periodNanos;
        this.maxWorkers = maxWorkers;
    }

    public long periodNanos() {
        return periodNanos;
    }

    /**
     * Records {@code hb} (already checked by {@link HeartbeatCheck}).
     *
     * @throws CleaveException RESOURCE_EXHAUSTED for a new worker when {@code maxWorkers} are live
     */
    public synchronized void heartbeat(WorkerHeartbeat hb) {
        Entry e = workers.get(hb.getWorkerId());
        if (e == null) {
            drain();
            if (workers.size() >= maxWorkers) {
                throw new CleaveException(ErrorCode.RESOURCE_EXHAUSTED, "registry full: " + maxWorkers + " live workers, no room for another");
            }
            e = new Entry();
            workers.put(hb.getWorkerId(), e);
        }
        e.last = hb;
        e.seenAt = clock.nanoTime();
        e.assignedSince = 0;
        e.suspect = false;
    }

    /** Workers, of any model, that heartbeated within three periods and are not draining. */
    public synchronized int liveCount() {
        return live("").size();
    }

    /** Workers that heartbeated within three periods, are not draining, and serve {@code modelId} ("": any). */
    public synchronized List<WorkerHeartbeat> live(String modelId) {
        drain();
        List<WorkerHeartbeat> l = new ArrayList<>();
        for (Entry e : workers.values()) {
            if (!e.last.getDraining() && (modelId.isEmpty() || e.last.getModelId().equals(modelId))) {
                l.add(e.last);
            }
        }
        return l;
    }

    /** The assignment for an edge on no worker yet. */
    public Assignment assign(String modelId) {
        return assign(modelId, "", "");
    }

    /** The assignment for an edge now on {@code currentTarget} (empty: none). */
    public Assignment assign(String modelId, String currentTarget) {
        return assign(modelId, currentTarget, "");
    }

    /**
     * The assignment for an edge now on {@code currentTarget} (empty: none) that lost its connection to
     * {@code lostTarget} (empty: none).
     */
    public synchronized Assignment assign(String modelId, String currentTarget, String lostTarget) {
        drain();
        // one pass over the model's workers (this runs for every edge every period): the lightest open one, the
        // edge's own, how many; the lost one first becomes suspect, so that it is neither the edge's nor the lightest
        Entry lightest = null;
        Entry current = null;
        int live = 0;
        for (Entry e : workers.values()) {
            if (!modelId.isEmpty() && !e.last.getModelId().equals(modelId) || e.last.getDraining()) {
                continue;
            }
            live++;
            boolean lost = !lostTarget.isEmpty() && lostTarget.equals(currentTarget) && e.last.getTarget().equals(lostTarget);
            e.suspect |= lost;
            if (e.open() && (lightest == null || load(e) < load(lightest))) {
                lightest = e;
            }
            if (!lost && e.last.getTarget().equals(currentTarget)) {
                current = e; // suspect (lost by another edge) or not: this edge still reaches it
            }
        }
        // the edge's own requests are in its worker's queue: it moves only for a clearly shorter one (two idle workers
        // would otherwise trade a lone edge at every heartbeat that caught one of its requests queued), and a move costs
        // it a new connection
        Entry best = current != null && (lightest == null || load(current) - load(lightest) < MOVE_MARGIN) ? current : lightest;
        if (best == null) {
            return Assignment.newBuilder().setLiveWorkers(live).build();
        }
        if (!best.last.getTarget().equals(currentTarget)) {
            best.assignedSince++;
        }
        return Assignment.newBuilder()
                .setWorkerTarget(best.last.getTarget())
                .setWorkerQueued(best.last.getQueued())
                .addAllProfile(best.last.getProfileList())
                .setLiveWorkers(live)
                .build();
    }

    /** How much shorter another worker's queue must be for an edge to leave its worker. */
    static final int MOVE_MARGIN = 2;

    private static int load(Entry e) {
        return e.last.getQueued() + e.assignedSince;
    }

    private void drain() {
        long now = clock.nanoTime();
        workers.values().removeIf(e -> now - e.seenAt > 3 * periodNanos);
    }
}
