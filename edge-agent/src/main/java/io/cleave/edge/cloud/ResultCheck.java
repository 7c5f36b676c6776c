package io.cleave.edge.cloud;

import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.proto.v1.ExitResult;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a worker's exit result before the race sees it: a worker is another process, possibly
 * another party's, and a malformed answer must never become the user's. A bad result is dropped,
 * counted, and logged once per kind of problem; the request is still answered (by another
 * candidate, at worst at its deadline).
 */
public final class ResultCheck {
    private static final Logger log = LoggerFactory.getLogger(ResultCheck.class);
    /** Probabilities must sum to 1 within this (fp32 softmax of up to 1000 classes stays well inside). */
    static final double SUM_TOLERANCE = 1e-3;

    private final ModelPack pack;
    private final AtomicLong dropped = new AtomicLong();
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    public ResultCheck(ModelPack pack) {
        this.pack = pack;
    }

    /** Results dropped so far. */
    public long dropped() {
        return dropped.get();
    }

    /** True if {@code r} may answer a request that entered the cloud at {@code split}; otherwise counts and (once per kind) logs it. */
    public boolean accept(ExitResult r, int split) {
        return accept(r, split, false);
    }

    /** As {@link #accept(ExitResult, int)}, for a request whose tokens were {@code reduced} at the split. */
    public boolean accept(ExitResult r, int split, boolean reduced) {
        String problem = problem(r, split);
        if (problem == null && reduced && !pack.exit(r.getExitIndex()).acceptsReducedTokens()) {
            problem = "exit unavailable after a reduction: exit " + r.getExitIndex() + " (" + pack.exit(r.getExitIndex()).type()
                    + ") needs every token, the request sent fewer";
        }
        if (problem == null) {
            return true;
        }
        dropped.incrementAndGet();
        String kind = problem.substring(0, problem.indexOf(':'));
        if (logged.add(kind)) {
            log.warn("dropped a worker result for {} ({}); further results with this problem are dropped silently and counted",
                    r.getRequestId(), problem);
        }
        return false;
    }

    /** What is wrong with {@code r}, as "kind: details", or null when nothing is. */
    String problem(ExitResult r, int split) {
        int e = r.getExitIndex();
        if (e < 0 || e >= pack.exitCount()) {
            return "exit out of range: exit " + e + ", the pack has " + pack.exitCount();
        }
        int after = pack.exit(e).afterBlock();
        if (!ExitPlacement.inCloud(after, split)) {
            return "exit not after the split: exit " + e + " follows block " + after + ", the request entered at block " + split;
        }
        if (r.getBlock() != after) {
            return "block inconsistent with exit: block " + r.getBlock() + " for exit " + e + ", which follows block " + after;
        }
        int classes = pack.classes();
        if (r.getProbabilitiesCount() != classes) {
            return "wrong number of probabilities: " + r.getProbabilitiesCount() + ", the pack has " + classes + " classes";
        }
        int cls = r.getPredictedClass();
        if (cls < 0 || cls >= classes) {
            return "class out of range: " + cls + ", the pack has " + classes + " classes";
        }
        double sum = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < classes; i++) {
            float p = r.getProbabilities(i);
            if (!(p >= 0 && p <= 1)) { // NaN fails both
                return "probability not in [0, 1]: " + p + " for class " + i;
            }
            sum += p;
            max = Math.max(max, p);
        }
        if (Math.abs(sum - 1) > SUM_TOLERANCE) {
            return "probabilities do not sum to 1: " + sum;
        }
        float conf = r.getConfidence();
        if (!(conf >= 0 && conf <= 1) || Math.abs(conf - r.getProbabilities(cls)) > 1e-6) {
            return "confidence inconsistent: " + conf + " for class " + cls + " whose probability is " + r.getProbabilities(cls);
        }
        if (r.getProbabilities(cls) < max) {
            return "predicted class is not the most probable: class " + cls + " has " + r.getProbabilities(cls) + ", the maximum is " + max;
        }
        return null;
    }
}
