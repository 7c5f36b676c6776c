package io.cleave.cli;

import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.Costs;
import io.cleave.core.plan.Decision;
import io.cleave.core.plan.PackStats;
import io.cleave.core.plan.Policies;
import io.cleave.core.plan.Policy;
import io.cleave.core.plan.PolicyRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What one planning decision costs on the edge, per request: Cleave's search with its knobs (token reductions, skipped
 * blocks) beside the same search without them, on the pack's own statistics and fixed costs (a 2 ms-per-block device,
 * a 0.1 ms-per-block worker, a 20 ms round trip with a spread, 2 Mbit/s), interleaved rounds, median and spread.
 */
@Command(name = "planner", mixinStandardHelpOptions = true,
        description = "Time of one planning decision (the edge plans every request): cleave with token reduction and block skipping beside "
                + "cleave-all-tokens, cleave-all-blocks and the search with neither, on the pack's statistics and fixed costs; the plans each "
                + "searches, median and p10-p90 of interleaved rounds, and the ratio to the search with neither.")
final class PlannerBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--k-max", defaultValue = "${env:CLEAVE_BENCH_PLANNER_K_MAX:-4}",
            description = "blocks the device holds (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_PLANNER_K_MAX)")
    int kMax;

    @Option(names = "--rounds", defaultValue = "${env:CLEAVE_BENCH_PLANNER_ROUNDS:-30}",
            description = "timed rounds of 200 decisions per policy (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_PLANNER_ROUNDS)")
    int rounds;

    static final int PER_ROUND = 200;

    @Override
    public Integer call() {
        ModelPack pack = ModelPack.load(packOptions.pack());
        if (kMax < 0 || kMax > pack.blockCount()) {
            throw new IllegalArgumentException("--k-max must be 0 to " + pack.blockCount() + ", got " + kMax);
        }
        if (rounds < 3) {
            throw new IllegalArgumentException("--rounds must be at least 3, got " + rounds);
        }
        PackStats stats = PackStats.of(pack);
        Costs costs = costs(pack.blockCount(), pack.exitCount(), kMax);
        List<String> names = List.of("neither", PolicyRegistry.CLEAVE_ALL_TOKENS, PolicyRegistry.CLEAVE_ALL_BLOCKS, PolicyRegistry.CLEAVE);
        List<Policy> policies = List.of(Policies.search("neither", stats, 2.0, false, false),
                PolicyRegistry.create(PolicyRegistry.CLEAVE_ALL_TOKENS, stats, 2.0), PolicyRegistry.create(PolicyRegistry.CLEAVE_ALL_BLOCKS, stats, 2.0),
                PolicyRegistry.create(PolicyRegistry.CLEAVE, stats, 2.0));
        int[] plans = {Policies.candidates(stats, kMax, 2.0, false, false).size(), Policies.candidates(stats, kMax, 2.0, false, true).size(),
            Policies.candidates(stats, kMax, 2.0, true, false).size(), Policies.candidates(stats, kMax, 2.0, true, true).size()};
        double[][] us = new double[policies.size()][rounds];
        Decision[] last = new Decision[policies.size()];
        long deadline = 30_000_000L;
        for (int r = -3; r < rounds; r++) { // three warm-up rounds; then each round times every policy in turn
            for (int p = 0; p < policies.size(); p++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < PER_ROUND; i++) {
                    last[p] = policies.get(p).decide(deadline, costs);
                }
                if (r >= 0) {
                    us[p][r] = (System.nanoTime() - t0) / 1e3 / PER_ROUND;
                }
            }
        }
        System.out.printf(Locale.ROOT, "planning decision, %s %s, k_max %d, 30 ms deadline, %d rounds of %d decisions; microseconds per "
                + "decision: median (p10-p90)%n", pack.id(), pack.version(), kMax, rounds, PER_ROUND);
        System.out.printf("%-20s %8s %24s %8s  %s%n", "search", "plans", "us per decision", "ratio", "its plan here");
        double base = Double.NaN;
        for (int p = 0; p < policies.size(); p++) {
            double[] s = us[p].clone();
            Arrays.sort(s);
            double median = Percentiles.of(s, 50);
            base = p == 0 ? median : base;
            System.out.printf(Locale.ROOT, "%-20s %8d %24s %7.2fx  %s%n", names.get(p), plans[p],
                    String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", median, Percentiles.of(s, 10), Percentiles.of(s, 90)),
                    median / base, last[p].plan());
        }
        return 0;
    }

    /** A 2 ms-per-block device, a 0.1 ms-per-block worker, 2 Mbit/s and a 20 ms round trip spread over 16-28 ms. */
    static Costs costs(int blocks, int exits, int kMax) {
        double ms = 1e6;
        double[] eb = new double[kMax + 1];
        Arrays.fill(eb, 1, kMax + 1, 2 * ms);
        double[] cb = new double[blocks + 1];
        Arrays.fill(cb, 1, blocks + 1, 0.1 * ms);
        double[] ee = new double[exits];
        Arrays.fill(ee, 0.3 * ms);
        double[] ce = new double[exits];
        Arrays.fill(ce, 0.05 * ms);
        double[] rtt = new double[20];
        for (int i = 0; i < rtt.length; i++) {
            rtt[i] = (16 + 12.0 * i / (rtt.length - 1)) * ms;
        }
        return new Costs(0.5 * ms, eb, ee, 0.05 * ms, cb, ce, 0, 2e6 / 8, 20 * ms, rtt);
    }

}
