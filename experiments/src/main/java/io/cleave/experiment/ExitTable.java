package io.cleave.experiment;

import io.cleave.core.codec.JpegCodec;
import io.cleave.core.data.Dataset;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.BlockSkip;
import io.cleave.core.plan.PackStats;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.proto.v1.Encoding;
import java.util.HashMap;
import java.util.Map;

/**
 * What the model answers for each test image an experiment sent: every exit's predicted class and
 * calibrated confidence as the device computes it, and every exit after each split as a worker
 * computes it from the tokens sent in each encoding. Computed once per experiment through the Java
 * engine ({@link ExitEvaluator}), so the replay's model side is exact: which exit answers decides
 * right or wrong.
 */
final class ExitTable {
    /**
     * Encodings whose tokens reach the worker changed (FP32 carries them bit for bit, the raw input at
     * split 0 is lossless; a JPEG input is not, and has its own predictions at split 0).
     */
    static final Encoding[] LOSSY = {Encoding.FP16, Encoding.INT8};

    private final int[] labels;
    private final int[][] predictions; // [exit][image], the lossless path
    private final float[][] confidences; // [exit][image], the lossless path
    private final Map<Key, int[][]> lossy; // per split and lossy encoding, [exit][image]

    private record Key(int split, Encoding encoding) {}

    private record ReducedKey(int split, Encoding encoding, TokenReduction reduction) {}

    private final Map<ReducedKey, int[][]> reduced = new HashMap<>(); // per split, encoding and token reduction, [exit][image]

    private record SkipKey(BlockSkip skip, int split, Encoding encoding) {}

    private final Map<SkipKey, int[][]> skipped = new HashMap<>(); // per skip set: lossless (split 0, FP32) and per lossy route

    /**
     * Hand-made or computed tables.
     *
     * @param lossy per split and lossy encoding, the predictions[exit][image] of exits after the split
     */
    ExitTable(int[] labels, int[][] predictions, float[][] confidences, Map<Integer, Map<Encoding, int[][]>> lossy) {
        this.labels = labels.clone();
        this.predictions = predictions;
        this.confidences = confidences;
        this.lossy = new HashMap<>();
        lossy.forEach((s, byEnc) -> byEnc.forEach((e, p) -> this.lossy.put(new Key(s, e), p)));
    }

    /** The first {@code n} test images through every exit, lossless and through each lossy encoding after splits 1..maxSplit. */
    static ExitTable compute(ModelPack pack, Dataset ds, int n, int maxSplit, int threads) {
        int[] labels = java.util.Arrays.copyOf(ds.labels(), n);
        Map<Integer, Map<Encoding, int[][]>> lossy = new HashMap<>();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(threads))) {
            ExitEvaluator ev = new ExitEvaluator(engine);
            ExitEvaluator.Results plain = ev.evaluate(ds, n, BATCH, 0, Encoding.FP32);
            // the input as a JPEG at the quality experiment edges send (a lossy split-0 encoding)
            Dataset jpeg = jpegRoundTrip(ds, n, JpegCodec.DEFAULT_QUALITY);
            lossy.computeIfAbsent(0, k -> new HashMap<>()).put(Encoding.JPEG, ev.predictions(jpeg, n, BATCH));
            for (int s = 1; s <= Math.min(maxSplit, pack.blockCount() - 1); s++) {
                for (Encoding e : LOSSY) {
                    lossy.computeIfAbsent(s, k -> new HashMap<>()).put(e, ev.predictions(ds, n, BATCH, s, e));
                }
            }
            ExitTable t = new ExitTable(labels, plain.predictions(), plain.confidences(), lossy);
            // the token reductions the planner searches (PackStats.reductions), in every token encoding
            PackStats stats = PackStats.of(pack);
            for (int s = 1; s <= Math.min(maxSplit, pack.blockCount() - 1); s++) {
                for (TokenReduction r : stats.reductions(s)) {
                    for (Encoding e : new Encoding[] {Encoding.FP32, Encoding.FP16, Encoding.INT8}) {
                        t.withReduced(s, e, r, ev.evaluate(ds, n, BATCH, s, e, r).predictions());
                    }
                }
            }
            // the skip sets the planner searches at any k_max up to maxSplit: lossless, the JPEG input, and each lossy token route
            java.util.Set<BlockSkip> skips = new java.util.LinkedHashSet<>();
            for (int k = 0; k <= Math.min(maxSplit, pack.blockCount()); k++) {
                skips.addAll(stats.skipOptions(k));
            }
            for (BlockSkip skip : skips) {
                t.withSkipped(skip, 0, Encoding.FP32, ev.evaluate(ds, n, BATCH, 0, Encoding.FP32, TokenReduction.NONE, skip).predictions());
                t.withSkipped(skip, 0, Encoding.JPEG, ev.evaluate(jpeg, n, BATCH, 0, Encoding.FP32, TokenReduction.NONE, skip).predictions());
                for (int s = 1; s <= Math.min(maxSplit, pack.blockCount() - 1); s++) {
                    for (Encoding e : LOSSY) {
                        t.withSkipped(skip, s, e, ev.evaluate(ds, n, BATCH, s, e, TokenReduction.NONE, skip).predictions());
                    }
                }
            }
            return t;
        }
    }

    /** Predictions[exit][image] with {@code skip}'s blocks left out: split 0 FP32 the lossless path, else that route's. */
    ExitTable withSkipped(BlockSkip skip, int split, Encoding enc, int[][] predictions) {
        skipped.put(new SkipKey(skip, split, enc), predictions);
        return this;
    }

    /** As {@link #correct(int, int, boolean, int, Encoding, TokenReduction)}, with {@code skip}'s blocks left out. */
    boolean correct(int image, int exit, boolean cloud, int split, Encoding encoding, TokenReduction r, BlockSkip skip) {
        if (!skip.any()) {
            return correct(image, exit, cloud, split, encoding, r);
        }
        if (r.reduces() && cloud) {
            throw new IllegalArgumentException("no predictions with blocks " + skip + " skipped and tokens reduced by " + r);
        }
        boolean lossy = cloud && (split > 0 && encoding != Encoding.FP32 || split == 0 && encoding == Encoding.JPEG);
        SkipKey key = lossy ? new SkipKey(skip, split, encoding) : new SkipKey(skip, 0, Encoding.FP32);
        int[][] p = skipped.get(key);
        if (p == null) {
            throw new IllegalArgumentException("no predictions with blocks " + skip + " skipped for split " + split + " in " + encoding);
        }
        return p[exit][image] == labels[image];
    }

    /** The predictions[exit][image] of the exits after {@code split} with the tokens reduced by {@code r}, sent in {@code enc}. */
    ExitTable withReduced(int split, Encoding enc, TokenReduction r, int[][] predictions) {
        reduced.put(new ReducedKey(split, enc, r), predictions);
        return this;
    }

    /** As {@link #correct(int, int, boolean, int, Encoding)}, with the tokens after the split reduced by {@code r}. */
    boolean correct(int image, int exit, boolean cloud, int split, Encoding encoding, TokenReduction r) {
        if (!cloud || !r.reduces()) {
            return correct(image, exit, cloud, split, encoding);
        }
        int[][] p = reduced.get(new ReducedKey(split, encoding, r));
        if (p == null) {
            throw new IllegalArgumentException("no predictions for split " + split + " in " + encoding + " reduced by " + r);
        }
        return p[exit][image] == labels[image];
    }

    /** The first {@code n} (grayscale) images through the JPEG codec at {@code quality} and back, as the worker decodes them. */
    static Dataset jpegRoundTrip(Dataset ds, int n, int quality) {
        byte[] out = new byte[n * ds.pixels()];
        for (int i = 0; i < n; i++) {
            byte[] jpeg = JpegCodec.encode(ds.image(i), 1, ds.height(), ds.width(), quality);
            System.arraycopy(JpegCodec.decodePixels(jpeg, 1, ds.height(), ds.width()), 0, out, i * ds.pixels(), ds.pixels());
        }
        return new Dataset(out, java.util.Arrays.copyOf(ds.labels(), n), ds.height(), ds.width());
    }

    /** Images per engine call: at 25-100 about 3 ms per image per pass on a loaded 2-core machine, at 250 three times that (measured). */
    private static final int BATCH = 32;

    /** Images in the table; request i sent image {@code i % images()}. */
    int images() {
        return labels.length;
    }

    /** The calibrated confidence of {@code exit} on the device for {@code image}. */
    float confidence(int image, int exit) {
        return confidences[exit][image];
    }

    /**
     * Whether {@code exit} answers {@code image} right: computed on the device, or by a worker from
     * the tokens after {@code split} sent in {@code encoding}.
     */
    boolean correct(int image, int exit, boolean cloud, int split, Encoding encoding) {
        int[][] p = predictions;
        if (cloud && (split > 0 && encoding != Encoding.FP32 || split == 0 && encoding == Encoding.JPEG)) {
            p = lossy.get(new Key(split, encoding));
            if (p == null) {
                throw new IllegalArgumentException("no predictions for split " + split + " in " + encoding);
            }
        }
        return p[exit][image] == labels[image];
    }
}
