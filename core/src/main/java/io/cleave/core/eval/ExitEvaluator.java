package io.cleave.core.eval;

import io.cleave.core.codec.TensorCodec;
import io.cleave.core.data.Dataset;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.ExitPlacement;
import io.cleave.core.reduce.TokenReducer;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.proto.v1.Encoding;
import java.util.function.IntConsumer;

/** Predictions of every exit for a dataset, straight through the engine (the reference path). */
public final class ExitEvaluator {
    private final SegmentEngine engine;
    private final ModelPack pack;
    private IntConsumer onBatch = images -> {};

    public ExitEvaluator(SegmentEngine engine) {
        this.engine = engine;
        this.pack = engine.pack();
    }

    /** Told the number of images after each batch (e.g. a progress bar's step); returns this. */
    public ExitEvaluator onBatch(IntConsumer onBatch) {
        this.onBatch = onBatch;
        return this;
    }

    /** predictions[exit][image] for the first n images, in batches. */
    public int[][] predictions(Dataset ds, int n, int batch) {
        return predictions(ds, n, batch, 0, Encoding.FP32);
    }

    /**
     * Same, with the tokens after block {@code split} sent through the wire codec in
     * {@code encoding} (what a worker receives): the reference for split inference.
     */
    public int[][] predictions(Dataset ds, int n, int batch, int split, Encoding encoding) {
        return evaluate(ds, n, batch, split, encoding).predictions();
    }

    /**
     * What every exit answers for each of the first n images, tokens after block {@code split} sent
     * through the wire codec in {@code encoding} (split 0: none).
     *
     * @param predictions predictions[exit][image]: the predicted class
     * @param confidences confidences[exit][image]: its calibrated probability (softmax of logits / the exit's
     *     temperature), what an edge compares with its confidence threshold
     */
    public record Results(int[][] predictions, float[][] confidences) {}

    public Results evaluate(Dataset ds, int n, int batch, int split, Encoding encoding) {
        return evaluate(ds, n, batch, split, encoding, TokenReduction.NONE);
    }

    /**
     * As {@link #evaluate(Dataset, int, int, int, Encoding)}, with the tokens after block {@code split} reduced as
     * {@code reduction} says before the codec (as an edge sends them); the cloud's exits run on the reduced tokens, and
     * a cloud exit that needs every token predicts -1 (confidence 0).
     */
    public Results evaluate(Dataset ds, int n, int batch, int split, Encoding encoding, TokenReduction reduction) {
        return evaluate(ds, n, batch, split, encoding, reduction, io.cleave.core.plan.BlockSkip.NONE);
    }

    /** As {@link #evaluate(Dataset, int, int, int, Encoding, TokenReduction)}, the blocks in {@code skip} left out. */
    public Results evaluate(Dataset ds, int n, int batch, int split, Encoding encoding, TokenReduction reduction,
            io.cleave.core.plan.BlockSkip skip) {
        Preprocessor pre = new Preprocessor(pack);
        int exits = pack.exitCount();
        int classes = pack.classes();
        int[][] pred = new int[exits][n];
        float[][] conf = new float[exits][n];
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            byte[] px = new byte[b * ds.pixels()];
            System.arraycopy(ds.images(), start * ds.pixels(), px, 0, px.length);
            Tensor t = engine.stem(pre.apply(px, b));
            int block = 0;
            boolean encoded = split == 0;
            for (Manifest.Exit e : pack.manifest().exits()) {
                if (!encoded && ExitPlacement.inCloud(e.afterBlock(), split)) {
                    // what crosses the wire: the tokens after the split, through the codec
                    t = run(t, block, split, skip);
                    block = split;
                    t = TokenReducer.reduce(engine, split, t, reduction);
                    int d = pack.manifest().tokens().dim();
                    t = new Tensor(TensorCodec.decode(TensorCodec.encode(t.data(), d, encoding), t.data().length / d, d, encoding),
                            t.shape());
                    encoded = true;
                }
                t = run(t, block, e.afterBlock(), skip);
                block = e.afterBlock();
                if (reduction.reduces() && ExitPlacement.inCloud(e.afterBlock(), split) && !e.acceptsReducedTokens()) {
                    java.util.Arrays.fill(pred[e.index()], start, start + b, -1);
                    continue;
                }
                record(pred, conf, e, engine.exit(e.index(), t), start, b, classes);
            }
            onBatch.accept(b);
        }
        return new Results(pred, conf);
    }

    /** Blocks {@code (from, to]}, those in {@code skip} left out. */
    private Tensor run(Tensor t, int from, int to, io.cleave.core.plan.BlockSkip skip) {
        if (!skip.any()) {
            return engine.blocks(t, from, to);
        }
        for (int k = from + 1; k <= to; k++) {
            t = skip.skips(k) ? t : engine.blocks(t, k - 1, k);
        }
        return t;
    }

    private static void record(int[][] pred, float[][] conf, Manifest.Exit e, Tensor logits, int start, int b, int classes) {
        for (int i = 0; i < b; i++) {
            float[] p = Calibration.probabilities(logits.data(), i * classes, classes, e.temperature());
            int cls = Calibration.argmax(p);
            pred[e.index()][start + i] = cls;
            conf[e.index()][start + i] = p[cls];
        }
    }

    /** Accuracy of each exit on the first n images. */
    public double[] accuracy(Dataset ds, int n, int batch) {
        return accuracy(predictions(ds, n, batch), ds, n);
    }

    /** Accuracy of each row of predictions against the labels. */
    public static double[] accuracy(int[][] pred, Dataset ds, int n) {
        double[] acc = new double[pred.length];
        for (int e = 0; e < pred.length; e++) {
            int ok = 0;
            for (int i = 0; i < n; i++) {
                if (pred[e][i] == ds.labels()[i]) {
                    ok++;
                }
            }
            acc[e] = ok / (double) n;
        }
        return acc;
    }
}
