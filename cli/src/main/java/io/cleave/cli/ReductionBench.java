package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.reduce.TokenReducer;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.proto.v1.Encoding;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What token reduction at a split buys and costs, measured: per split and reduction (every method and keep ratio
 * the pack recorded), the tokens and bytes that cross, the edge's time to probe and reduce, the cloud's compute for
 * the rest of the model on those tokens (blocks after the split and the final exit, batch 1), each beside the
 * same split without a reduction and the ratio, and the final exit's accuracy as the pack measured it.
 */
@Command(name = "reduce", mixinStandardHelpOptions = true,
        description = "Token reduction at a split, per method and keep ratio the pack recorded: tokens, fp16/int8 bytes, the edge's "
                + "probe-and-reduce time and the cloud's compute for the rest of the model (blocks after the split and the final exit, "
                + "batch 1, median of interleaved repeats with the p10-p90 spread), beside every token crossing, with the ratios; and "
                + "the final exit's accuracy the pack measured (test set; none for an untrained pack). Needs a reducible pack.")
final class ReductionBench implements Callable<Integer> {
    /** Untimed rounds per split before its timed ones. */
    static final int WARM_UP = 3;

    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--splits", split = ",", defaultValue = "${env:CLEAVE_BENCH_REDUCE_SPLITS}", description = "splits to measure "
            + "(default: a quarter, half and three quarters of the blocks; env CLEAVE_BENCH_REDUCE_SPLITS)")
    List<Integer> splits;

    @Option(names = "--repeats", defaultValue = "${env:CLEAVE_BENCH_REDUCE_REPEATS:-30}",
            description = "timed repeats of each (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_REDUCE_REPEATS)")
    int repeats;

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    /** Median and spread of a timing, milliseconds. */
    record Timing(double medianMs, double p10Ms, double p90Ms) {
        static Timing of(double[] nanos) {
            double[] s = nanos.clone();
            Arrays.sort(s);
            return new Timing(Percentiles.of(s, 50) / 1e6, Percentiles.of(s, 10) / 1e6, Percentiles.of(s, 90) / 1e6);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.2f (%.2f-%.2f)", medianMs, p10Ms, p90Ms);
        }
    }

    /**
     * One row: {@code reduction} "none" is the baseline of its split; accuracy null where the pack has none.
     */
    record Row(int split, String reduction, int tokens, long fp16Bytes, long int8Bytes, Timing edgeReduce, Timing cloud,
            double cloudRatio, double bytesRatio, Double finalExitTest) {}

    @Override
    public Integer call() {
        ModelPack pack = ModelPack.load(packOptions.pack());
        if (!pack.reducible()) {
            throw new IllegalArgumentException("--pack " + packOptions.pack() + ": " + pack.id() + " " + pack.version()
                    + " is not reducible (make it so with onnx-models/add_token_reduction.py, or import_vit.py --reducible)");
        }
        int n = pack.blockCount();
        List<Integer> at = splits != null ? splits : List.of(Math.max(1, n / 4), Math.max(1, n / 2), Math.max(1, 3 * n / 4));
        for (int s : at) {
            if (s < 1 || s >= n) {
                throw new IllegalArgumentException("--splits " + s + " must be 1 to " + (n - 1) + " (a block with one after it)");
            }
        }
        if (repeats < 3) {
            throw new IllegalArgumentException("--repeats must be at least 3, got " + repeats);
        }
        List<Row> rows = new ArrayList<>();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(packOptions.threads))) {
            byte[] image = BenchInputs.images(pack, 1).get(0);
            Tensor stem = engine.stem(new Preprocessor(pack).apply(image, 1));
            for (int s : at) { // every split warmed up before any is timed: the first one timed read 2-3x slower otherwise
                measure(engine, pack, s, engine.blocks(stem, 0, s));
            }
            for (int s : at) {
                rows.addAll(measure(engine, pack, s, engine.blocks(stem, 0, s)));
            }
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id() + " " + pack.version());
            out.put("trained", pack.trained());
            out.put("threads", packOptions.threads);
            out.put("repeats", repeats);
            out.put("rows", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(out));
            return 0;
        }
        Untrained.print(System.out, pack);
        System.out.printf(Locale.ROOT, "token reduction, %s %s (%d tokens of %d), batch 1, %d thread(s), %d interleaved repeats; "
                + "times in ms: median (p10-p90)%n", pack.id(), pack.version(), pack.manifest().tokens().count(),
                pack.manifest().tokens().dim(), packOptions.threads, repeats);
        System.out.printf("%-6s %-15s %7s %9s %9s %8s %22s %22s %8s %10s%n", "split", "reduction", "tokens", "fp16 B", "int8 B",
                "bytes", "edge: probe+reduce", "cloud: rest of model", "cloud", "final exit");
        System.out.printf("%-6s %-15s %7s %9s %9s %8s %22s %22s %8s %10s%n", "", "", "", "", "", "ratio", "", "", "ratio", "test");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-6d %-15s %7d %9d %9d %7.2fx %22s %22s %7.2fx %10s%n", r.split(), r.reduction(), r.tokens(),
                    r.fp16Bytes(), r.int8Bytes(), r.bytesRatio(), r.edgeReduce() == null ? "-" : r.edgeReduce().toString(),
                    r.cloud().toString(), r.cloudRatio(), r.finalExitTest() == null ? "-" : String.format(Locale.ROOT, "%.2f%%",
                            100 * r.finalExitTest()));
        }
        return 0;
    }

    private List<Row> measure(SegmentEngine engine, ModelPack pack, int split, Tensor tokens) {
        int n = pack.blockCount();
        int last = pack.exitCount() - 1;
        int d = pack.manifest().tokens().dim();
        List<TokenReduction> reductions = new ArrayList<>();
        reductions.add(TokenReduction.NONE);
        for (String method : pack.manifest().tokenReduction().methods()) {
            for (double keep : pack.manifest().tokenReduction().keeps()) {
                reductions.add(new TokenReduction(TokenReduction.Method.named(method), keep));
            }
        }
        double[][] edge = new double[reductions.size()][repeats];
        double[][] cloud = new double[reductions.size()][repeats];
        Tensor[] sent = new Tensor[reductions.size()];
        for (int w = -WARM_UP; w < repeats; w++) { // warm-up rounds; then each repeat measures every reduction in turn
            for (int i = 0; i < reductions.size(); i++) {
                long t0 = System.nanoTime();
                Tensor r = TokenReducer.reduce(engine, split, tokens, reductions.get(i));
                long t1 = System.nanoTime();
                engine.exit(last, engine.blocks(r, split, n));
                long t2 = System.nanoTime();
                if (w >= 0) {
                    edge[i][w] = t1 - t0;
                    cloud[i][w] = t2 - t1;
                }
                sent[i] = r;
            }
        }
        List<Row> rows = new ArrayList<>();
        Timing base = Timing.of(cloud[0]);
        long baseBytes = TensorCodec.payloadBytes(Encoding.FP16, sent[0].shape()[1], d);
        for (int i = 0; i < reductions.size(); i++) {
            TokenReduction r = reductions.get(i);
            int t = sent[i].shape()[1];
            Timing c = Timing.of(cloud[i]);
            long fp16 = TensorCodec.payloadBytes(Encoding.FP16, t, d);
            rows.add(new Row(split, r.toString(), t, fp16, TensorCodec.payloadBytes(Encoding.INT8, t, d),
                    r.reduces() ? Timing.of(edge[i]) : null, c, c.medianMs() / base.medianMs(), (double) fp16 / baseBytes,
                    finalExitTest(pack, split, r)));
        }
        return rows;
    }

    /** The final exit's test accuracy with this reduction at this split, as the pack recorded it; null where it has none. */
    private static Double finalExitTest(ModelPack pack, int split, TokenReduction r) {
        int last = pack.exitCount() - 1;
        if (!r.reduces()) {
            Manifest.Accuracy a = pack.exit(last).accuracy();
            return a == null ? null : a.test();
        }
        return pack.manifest().tokenReduction().costs().stream()
                .filter(c -> c.split() == split && c.method().equals(r.method().wireName()) && c.keep() == r.keep())
                .flatMap(c -> c.exits().stream()).filter(e -> e.index() == last && e.test() != null).map(Manifest.ExitCost::test)
                .findFirst().orElse(null);
    }
}
