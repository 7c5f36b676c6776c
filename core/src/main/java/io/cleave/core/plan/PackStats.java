package io.cleave.core.plan;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.proto.v1.Encoding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the planner knows about a pack: where the exits sit, how accurate each is (calibrated,
 * from the manifest), what each wire encoding at each split costs in accuracy (measured,
 * {@code encodings.json}) and in bytes.
 */
public final class PackStats {
    private final int blocks;
    private final int[] exitBlock;
    private final double[] accuracy;
    private final Map<Integer, Map<Encoding, double[]>> encoded = new HashMap<>();
    private final int tokens;
    private final int dim;
    private final int inputBytes;
    // JPEG input (split 0): mean bytes per image at the quality the edge sends, measured with its accuracy; 0: not measured
    private long jpegBytes;
    // and the JPEG's encode (edge) + decode (worker) time, measured with it, nanoseconds
    private double jpegCodecNanos;
    // per exit: validation rows {threshold, stop rate, accuracy when stopped}
    private final Map<Integer, double[][]> thresholds = new HashMap<>();
    // per split: the token reductions measured there, with the tokens they send and every exit's validation accuracy
    // (NaN for exits that are local at that split or need every token)
    private final Map<Integer, Map<TokenReduction, Reduced>> reductions = new HashMap<>();
    private int prefixTokens;
    // the probe a reduction runs on the edge, as a share of the block before it (FLOPs)
    private double probeShare;

    // per measured set of skipped blocks: every exit's validation accuracy with them left out
    private final Map<BlockSkip, double[]> skips = new java.util.LinkedHashMap<>();

    /** A measured reduction at one split: the tokens that cross and the exits' validation accuracy on them. */
    record Reduced(int tokens, double[] accuracy) {}

    public PackStats(int blocks, int[] exitBlock, double[] accuracy, int tokens, int dim, int inputBytes) {
        this.blocks = blocks;
        this.exitBlock = exitBlock.clone();
        this.accuracy = accuracy.clone();
        this.tokens = tokens;
        this.dim = dim;
        this.inputBytes = inputBytes;
    }

    /** {@link #of(ModelPack, int)} for an edge sending JPEG input at {@link JpegCodec#DEFAULT_QUALITY}. */
    public static PackStats of(ModelPack pack) {
        return of(pack, JpegCodec.DEFAULT_QUALITY);
    }

    /**
     * From a pack: validation accuracy per exit, and its encodings.json when present (for JPEG input,
     * the row measured at {@code jpegQuality}: without one the planner does not offer JPEG). An exit
     * with no measured accuracy counts as chance, 1 / classes, in a trained pack (an imported one
     * nobody labelled data for), and in an untrained pack (timing and bytes only) as its depth,
     * blocks before it / all blocks: there every exit is chance, and planning on chance made every
     * plan a tie that went to the fewest bytes, so the planner stayed local; on depth it plans for
     * the deepest answer in time, which is what a timing run measures. Encodings change no depth.
     */
    public static PackStats of(ModelPack pack, int jpegQuality) {
        Manifest m = pack.manifest();
        int n = pack.exitCount();
        int[] eb = new int[n];
        double[] acc = new double[n];
        boolean[] depth = new boolean[n];
        for (Manifest.Exit e : m.exits()) {
            eb[e.index()] = e.afterBlock();
            depth[e.index()] = e.accuracy() == null && !pack.trained();
            acc[e.index()] = depth[e.index()] ? (double) e.afterBlock() / pack.blockCount()
                    : e.accuracy() == null ? 1.0 / pack.classes() : e.accuracy().validation();
        }
        PackStats s = new PackStats(pack.blockCount(), eb, acc, m.tokens().count(), m.tokens().dim(), m.input().size());
        for (Manifest.Exit e : m.exits()) {
            if (e.thresholds() != null) {
                s.withThresholds(e.index(), e.thresholds().stream()
                        .filter(t -> t.accuracy_when_stopped() != null)
                        .map(t -> new double[] {t.threshold(), t.stop_rate(), t.accuracy_when_stopped()})
                        .toArray(double[][]::new));
            }
        }
        Manifest.TokenReductionSpec tr = m.tokenReduction();
        if (tr != null && tr.costs() != null) {
            s.prefixTokens = tr.prefix();
            long blockFlops = m.blocks().get(0).flops();
            Long probeFlops = tr.probes().get(0).flops();
            s.probeShare = probeFlops == null || blockFlops <= 0 ? 1 : (double) probeFlops / blockFlops;
            for (Manifest.ReductionCost cost : tr.costs()) {
                double[] a = new double[n];
                java.util.Arrays.fill(a, Double.NaN);
                for (Manifest.ExitCost e : cost.exits()) {
                    a[e.index()] = depth[e.index()] ? acc[e.index()] : e.validation() == null ? 1.0 / pack.classes() : e.validation();
                }
                s.withReduction(cost.split(), new TokenReduction(TokenReduction.Method.named(cost.method()), cost.keep()), cost.tokens(), a);
            }
        }
        Manifest.BlockSkipping bs = m.blockSkipping();
        if (bs != null && bs.sets() != null) {
            for (Manifest.SkipSet set : bs.sets()) {
                double[] a = acc.clone(); // exits before the first skipped block are unchanged
                for (Manifest.ExitCost e : set.exits()) {
                    a[e.index()] = depth[e.index()] ? acc[e.index()] : e.validation() == null ? 1.0 / pack.classes() : e.validation();
                }
                s.withSkip(BlockSkip.of(set.skip()), a);
            }
        }
        Path enc = pack.dir().resolve("encodings.json");
        if (Files.isRegularFile(enc)) {
            try {
                JsonObject o = new Gson().fromJson(Files.readString(enc), JsonObject.class);
                double[] testPlain = new double[n];
                for (Manifest.Exit e : m.exits()) {
                    testPlain[e.index()] = e.accuracy() == null ? 1.0 / pack.classes()
                            : e.accuracy().test() != null ? e.accuracy().test() : e.accuracy().validation();
                }
                for (var r : o.getAsJsonArray("rows")) {
                    JsonObject row = r.getAsJsonObject();
                    Encoding rowEnc = Encoding.valueOf(row.get("encoding").getAsString());
                    if (rowEnc == Encoding.JPEG && (!row.has("quality") || row.get("quality").getAsInt() != jpegQuality)) {
                        continue;
                    }
                    double[] test = new Gson().fromJson(row.get("exitAccuracy"), double[].class);
                    // measured on the test set: apply the measured change relative to plain test accuracy
                    double[] adjusted = new double[n];
                    for (int e = 0; e < n; e++) {
                        adjusted[e] = depth[e] ? acc[e] : acc[e] + (test[e] - testPlain[e]);
                    }
                    s.withEncodingAccuracy(row.get("split").getAsInt(), rowEnc, adjusted);
                    if (rowEnc == Encoding.JPEG) {
                        // p90: the planner plans on pessimistic inputs (a photo's JPEG size varies; the mean would under-plan 1 in 2)
                        long bytes = row.has("p90Bytes") ? row.get("p90Bytes").getAsLong() : row.get("bytes").getAsLong();
                        s.withJpeg(bytes, row.has("codecUs") ? row.get("codecUs").getAsDouble() * 1e3 : 0);
                    }
                }
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException("unreadable " + enc + ": " + e.getMessage(), e);
            }
        }
        return s;
    }

    /**
     * A token reduction measured at {@code split}: {@code tokens} cross, and {@code exitAccuracy} is every exit's
     * validation accuracy computed on them (NaN where an exit is not computed on them).
     */
    public PackStats withReduction(int split, TokenReduction r, int tokens, double[] exitAccuracy) {
        reductions.computeIfAbsent(split, k -> new java.util.LinkedHashMap<>()).put(r, new Reduced(tokens, exitAccuracy.clone()));
        return this;
    }

    /**
     * The token reductions measured at {@code split} worth searching (none for a pack that is not reducible): those that
     * no other measured there dominates, i.e. sends at most as many tokens with every cloud exit at least as accurate.
     * (At equal keep ratios one method usually dominates the other, which halves the planner's search.)
     */
    public List<TokenReduction> reductions(int split) {
        Map<TokenReduction, Reduced> m = reductions.get(split);
        if (m == null) {
            return List.of();
        }
        List<Map.Entry<TokenReduction, Reduced>> all = List.copyOf(m.entrySet());
        List<TokenReduction> out = new java.util.ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            boolean dominated = false;
            for (int j = 0; j < all.size() && !dominated; j++) {
                // j dominates i: no more tokens, no exit worse, and something better (or exactly as good and listed first)
                dominated = j != i && dominates(all.get(j).getValue(), all.get(i).getValue(), j < i);
            }
            if (!dominated) {
                out.add(all.get(i).getKey());
            }
        }
        return List.copyOf(out);
    }

    private static boolean dominates(Reduced b, Reduced a, boolean listedFirst) {
        if (b.tokens() > a.tokens()) {
            return false;
        }
        boolean better = b.tokens() < a.tokens();
        for (int x = 0; x < a.accuracy().length; x++) {
            double pa = a.accuracy()[x];
            double pb = b.accuracy()[x];
            if (Double.isNaN(pa)) {
                continue;
            }
            if (Double.isNaN(pb) || pb < pa) {
                return false;
            }
            better |= pb > pa;
        }
        return better || listedFirst;
    }

    /** A set of skipped blocks measured: every exit's validation accuracy with them left out. */
    public PackStats withSkip(BlockSkip skip, double[] exitAccuracy) {
        skips.put(skip, exitAccuracy.clone());
        return this;
    }

    /**
     * The skip sets the planner searches for a device holding {@code kMax} blocks: of the measured sets, the single block
     * and the pair of blocks whose skipping costs the final exit least, and the same among the device's own blocks judged
     * by the deepest exit the device holds (a skipped block saves most where compute is slowest). Few, on purpose: each
     * multiplies the plans searched.
     */
    public List<BlockSkip> skipOptions(int kMax) {
        java.util.LinkedHashSet<BlockSkip> out = new java.util.LinkedHashSet<>();
        int last = exits() - 1;
        int deepestHeld = -1;
        for (int x = 0; x < exits(); x++) {
            if (exitBlock[x] <= kMax) {
                deepestHeld = x;
            }
        }
        for (int size = 1; size <= 2; size++) {
            bestSkip(size, 30, last).ifPresent(out::add);
            if (deepestHeld >= 0) {
                bestSkip(size, kMax, deepestHeld).ifPresent(out::add);
            }
        }
        return List.copyOf(out);
    }

    private java.util.Optional<BlockSkip> bestSkip(int size, int within, int exit) {
        BlockSkip best = null;
        double bestAcc = Double.NEGATIVE_INFINITY;
        for (var e : skips.entrySet()) {
            List<Integer> b = e.getKey().blocks();
            if (b.size() == size && b.get(b.size() - 1) <= within && e.getValue()[exit] > bestAcc) {
                best = e.getKey();
                bestAcc = e.getValue()[exit];
            }
        }
        return java.util.Optional.ofNullable(best);
    }

    /** Tokens a plan sends: every token, or those its reduction leaves. */
    public int tokens(Plan p) {
        if (!p.reduction().reduces() || p.split() == 0) {
            return tokens;
        }
        Reduced r = reductions.getOrDefault(p.split(), Map.of()).get(p.reduction());
        return r != null ? r.tokens() : p.reduction().tokens(prefixTokens, tokens);
    }

    /** The share of the tokens a plan's cloud blocks run on (1 without a reduction). */
    public double tokenShare(Plan p) {
        return (double) tokens(p) / tokens;
    }

    /** The edge's cost of a plan's reduction (its probe), as a share of the time of the block before it; 0 without one. */
    public double reductionShare(Plan p) {
        return p.reduction().reduces() && p.split() > 0 ? probeShare : 0;
    }

    /**
     * As {@link #accuracy(int, int, Encoding, boolean)} for a plan's split and encoding, with its token reduction: a
     * cloud exit's measured accuracy on the reduced tokens, changed by the encoding as measured without a reduction;
     * NaN where the reduction was not measured there or the exit needs every token.
     */
    public double accuracy(int exit, Plan p, boolean cloud) {
        double plain = accuracy(exit, p.split(), p.encoding(), cloud);
        if (p.skip().any() && exitBlock[exit] >= p.skip().first()) {
            double[] s = skips.get(p.skip());
            if (s == null || p.reduction().reduces() && cloud) {
                return Double.NaN; // never measured (nor together with a token reduction): not offered
            }
            return s[exit] + (plain - accuracy[exit]); // the encoding's cost as measured without skipping
        }
        if (!cloud || !p.reduction().reduces() || p.split() == 0 || exitBlock[exit] <= p.split()) {
            return plain;
        }
        Reduced r = reductions.getOrDefault(p.split(), Map.of()).get(p.reduction());
        if (r == null) {
            return Double.NaN;
        }
        return r.accuracy()[exit] + (plain - accuracy[exit]);
    }

    /** Bytes a plan sends: {@link #bytes(int, Encoding)}, for the tokens its reduction leaves. */
    public long bytes(Plan p) {
        if (!p.reduction().reduces() || p.split() == 0) {
            return bytes(p.split(), p.encoding());
        }
        return TensorCodec.payloadBytes(p.encoding(), tokens(p), dim);
    }

    public PackStats withEncodingAccuracy(int split, Encoding enc, double[] exitAccuracy) {
        encoded.computeIfAbsent(split, k -> new EnumMap<>(Encoding.class)).put(enc, exitAccuracy.clone());
        return this;
    }

    /**
     * A JPEG input at the quality the edge sends, as measured with its accuracy cost: bytes (from a
     * pack, the 90th percentile over the test images), and encode + decode time in nanoseconds.
     */
    public PackStats withJpeg(long bytes, double codecNanos) {
        this.jpegBytes = bytes;
        this.jpegCodecNanos = codecNanos;
        return this;
    }

    /** Time to encode and decode the payload of a split in {@code enc} beyond copying it: JPEG's, else 0. */
    public double codecNanos(int split, Encoding enc) {
        return split == 0 && enc == Encoding.JPEG ? jpegCodecNanos : 0;
    }

    /** Validation rows {threshold, stop rate, accuracy when stopped} of an exit's confidence threshold table. */
    public PackStats withThresholds(int exit, double[][] rows) {
        thresholds.put(exit, rows);
        return this;
    }

    /** The thresholds measured on validation for every exit, ascending (empty when the pack has no tables). */
    public java.util.SortedSet<Double> thresholds() {
        java.util.TreeSet<Double> t = new java.util.TreeSet<>();
        thresholds.values().forEach(rows -> java.util.Arrays.stream(rows).forEach(r -> t.add(r[0])));
        return t;
    }

    /** Fraction of validation samples whose calibrated confidence at {@code exit} reaches {@code threshold}; 0 if unknown or above 1. */
    public double stopRate(int exit, double threshold) {
        double[] r = row(exit, threshold);
        return r == null ? 0 : r[1];
    }

    /**
     * Upper bound on the accuracy a confident stop at {@code exit} can cost: the stopped fraction
     * times its error rate, as if a deeper exit would have been right on every stopped sample.
     */
    public double stopCostBound(int exit, double threshold) {
        double[] r = row(exit, threshold);
        return r == null ? 0 : r[1] * (1 - r[2]);
    }

    private double[] row(int exit, double threshold) {
        if (threshold > 1) {
            return null;
        }
        double[][] rows = thresholds.get(exit);
        if (rows == null) {
            return null;
        }
        for (double[] r : rows) {
            if (Math.abs(r[0] - threshold) < 1e-9) {
                return r;
            }
        }
        return null;
    }

    public int blocks() {
        return blocks;
    }

    public int exits() {
        return exitBlock.length;
    }

    public int exitBlock(int exit) {
        return exitBlock[exit];
    }

    /**
     * Accuracy of {@code exit} when computed locally, or in the cloud from tokens after {@code split}
     * in {@code enc} (at split 0: the input, raw or as JPEG); NaN for a lossy encoding whose cost at
     * that split was never measured (the planner then does not offer it).
     */
    public double accuracy(int exit, int split, Encoding enc, boolean cloud) {
        if (!cloud || split == 0 && enc != Encoding.JPEG || enc == Encoding.FP32 || exitBlock[exit] <= split) {
            return accuracy[exit];
        }
        Map<Encoding, double[]> m = encoded.get(split);
        if (m == null || !m.containsKey(enc)) {
            return Double.NaN;
        }
        return m.get(enc)[exit];
    }

    /**
     * Bytes on the wire for a split: at 0 the input, raw or as JPEG (its measured 90th percentile; the
     * raw size when never measured), tokens in {@code enc} otherwise.
     */
    public long bytes(int split, Encoding enc) {
        if (split == 0) {
            return enc == Encoding.JPEG && jpegBytes > 0 ? jpegBytes : inputBytes;
        }
        return TensorCodec.payloadBytes(enc, tokens, dim);
    }
}
