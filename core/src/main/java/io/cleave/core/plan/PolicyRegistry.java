package io.cleave.core.plan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Every policy by name, in one place: the planners an edge runs on live measurements, the fixed
 * plan, and the two names only experiments know ({@code fixed-N}, {@code oracle}). Command lines,
 * the edge, the experiment runner and the reports take their names, parsing and help text from here.
 */
public final class PolicyRegistry {
    private PolicyRegistry() {}

    /** A planner an edge runs on its live measurements. */
    private record Planned(String help, Factory factory) {}

    @FunctionalInterface
    private interface Factory {
        Policy create(PackStats pack, double threshold);
    }

    /** The static bandwidth Edgent plans with, bytes/s: its published design uses one offline estimate. */
    static final double EDGENT_STATIC_BANDWIDTH = 1e6;

    /** Cleave's own planner: the default policy of an edge. */
    public static final String CLEAVE = "cleave";
    /** Cleave's planner with every token crossing: the comparison for token reduction. */
    public static final String CLEAVE_ALL_TOKENS = "cleave-all-tokens";
    /** Cleave's planner with every block running: the comparison for block skipping. */
    public static final String CLEAVE_ALL_BLOCKS = "cleave-all-blocks";

    private static final Map<String, Planned> PLANNED = new LinkedHashMap<>();

    static {
        PLANNED.put(CLEAVE, new Planned("Cleave's planner: split, encoding, token reduction, skipped blocks and exit threshold for the "
                + "best answer by the deadline", Policies::cleave));
        PLANNED.put(CLEAVE_ALL_TOKENS, new Planned("Cleave's planner without token reduction (every token crosses)",
                Policies::cleaveAllTokens));
        PLANNED.put(CLEAVE_ALL_BLOCKS, new Planned("Cleave's planner without block skipping (every block runs)",
                Policies::cleaveAllBlocks));
        PLANNED.put("edge-only", new Planned("never offload: the deepest local exit", Policies::edgeOnly));
        PLANNED.put("cloud-only", new Planned("always send the raw input; local exits still race", (p, t) -> Policies.cloudOnly(p)));
        PLANNED.put("neurosurgeon", new Planned("Neurosurgeon: the split of least predicted latency to the final exit, fp32, no early exit",
                (p, t) -> Policies.neurosurgeon(p)));
        PLANNED.put("edgent", new Planned("Edgent: the (split, exit) of best accuracy meeting the deadline on a static 8 Mbps estimate",
                (p, t) -> Policies.edgent(p, EDGENT_STATIC_BANDWIDTH)));
    }

    /** An edge's fixed plan: the split and encoding as configured. */
    public static final String FIXED = "fixed";
    /** Experiments only: Cleave's search fed the true future link. */
    public static final String ORACLE = "oracle";
    private static final Pattern FIXED_SPLIT = Pattern.compile("fixed-(\\d+)");

    /** The planners, in a fixed order. */
    public static List<String> planned() {
        return List.copyOf(PLANNED.keySet());
    }

    /** The policies an edge can run: {@value #FIXED} and the planners. */
    public static List<String> edgePolicies() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(FIXED), PLANNED.keySet().stream()).toList();
    }

    /** The experiment runner's default set: the planners (but the knob comparisons), a fixed split after block 2, and the oracle. */
    public static List<String> experimentDefaults() {
        List<String> all = new java.util.ArrayList<>(PLANNED.keySet());
        all.remove(CLEAVE_ALL_TOKENS); // run on request (--policies): they differ from cleave only where its knobs apply
        all.remove(CLEAVE_ALL_BLOCKS);
        all.add(3, "fixed-2");
        all.add(ORACLE);
        return List.copyOf(all);
    }

    /** Whether an experiment can run this policy: a planner, {@code fixed-N} or {@value #ORACLE}. */
    public static boolean isExperimentPolicy(String name) {
        return PLANNED.containsKey(name) || ORACLE.equals(name) || FIXED_SPLIT.matcher(name).matches();
    }

    /** The split of a {@code fixed-N} experiment policy, or -1. */
    public static int fixedSplit(String name) {
        var m = FIXED_SPLIT.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Whether this planner exists. */
    public static boolean isPlanned(String name) {
        return PLANNED.containsKey(name);
    }

    /** The named planner for a pack; an error naming the known ones otherwise. */
    public static Policy create(String name, PackStats pack, double threshold) {
        Planned p = PLANNED.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown policy '" + name + "'; expected one of " + String.join(", ", edgePolicies()));
        }
        return p.factory.create(pack, threshold);
    }

    /** One line per planner, for help text. */
    public static String help() {
        return PLANNED.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue().help()).collect(Collectors.joining("; "));
    }
}
