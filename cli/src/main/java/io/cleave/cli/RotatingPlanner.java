package io.cleave.cli;

import io.cleave.core.plan.Plan;
import io.cleave.edge.plan.Planner;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every plan in turn, request after request: for the soak, which must cross every path an edge takes.
 * Plans never answer early (threshold above 1), so every offloaded request races the cloud to its end.
 */
final class RotatingPlanner implements Planner {
    private final List<Plan> plans;
    private final AtomicLong next = new AtomicLong();

    RotatingPlanner(List<Plan> plans) {
        if (plans.isEmpty()) {
            throw new IllegalArgumentException("no plans to rotate");
        }
        this.plans = List.copyOf(plans);
    }

    /**
     * Each offload split an edge holding {@code kMax} of {@code blocks} blocks can make (0: the raw input; k: fp16
     * tokens after block k, while a block is left for the worker), then the device alone.
     */
    static RotatingPlanner everySplit(int kMax, int blocks) {
        List<Plan> plans = new ArrayList<>();
        for (int split = 0; split <= Math.min(kMax, blocks - 1); split++) {
            plans.add(new Plan(true, split, split == 0 ? Encoding.U8_IMAGE : Encoding.FP16, 2.0, kMax));
        }
        plans.add(Plan.edgeOnly(kMax, 2.0));
        return new RotatingPlanner(plans);
    }

    @Override
    public Plan plan(long deadlineNanos) {
        return plans.get((int) Math.floorMod(next.getAndIncrement(), (long) plans.size()));
    }

    List<Plan> plans() {
        return plans;
    }

    /** The plan's place in the rotation; -1 for any other. */
    int indexOf(Plan p) {
        return plans.indexOf(p);
    }

    /** A short name: "split 0 (raw input)", "split 2 (fp16)", "local only". */
    static String label(Plan p) {
        if (!p.offload()) {
            return "local only";
        }
        return "split " + p.split() + (p.split() == 0 ? " (raw input)" : " (" + p.encoding().name().toLowerCase(java.util.Locale.ROOT) + ")");
    }

    List<String> labels() {
        return plans.stream().map(RotatingPlanner::label).toList();
    }
}
