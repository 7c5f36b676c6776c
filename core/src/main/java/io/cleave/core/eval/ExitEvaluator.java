package io.cleave.core.eval;

import io.cleave.core.data.Dataset;
import io.cleave.core.engine.Calibration;
import io.cleave.core.engine.Preprocessor;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;

/** Predictions of every exit for a dataset, straight through the engine (the reference path). */
public final class ExitEvaluator {
    private final SegmentEngine engine;
    private final ModelPack pack;

    public ExitEvaluator(SegmentEngine engine) {
        this.engine = engine;
        this.pack = engine.pack();
    }

    /** predictions[exit][image] for the first n images, in batches. */
    public int[][] predictions(Dataset ds, int n, int batch) {
        Preprocessor pre = new Preprocessor(pack);
        int exits = pack.exitCount();
        int classes = pack.classes();
        int[][] pred = new int[exits][n];
        for (int start = 0; start < n; start += batch) {
            int b = Math.min(batch, n - start);
            byte[] px = new byte[b * ds.pixels()];
            System.arraycopy(ds.images(), start * ds.pixels(), px, 0, px.length);
            Tensor t = engine.stem(pre.apply(px, b));
            int block = 0;
            for (Manifest.Exit e : pack.manifest().exits()) {
                t = engine.blocks(t, block, e.afterBlock());
                block = e.afterBlock();
                Tensor logits = engine.exit(e.index(), t);
                for (int i = 0; i < b; i++) {
                    pred[e.index()][start + i] = Calibration.argmax(logits.data(), i * classes, classes);
                }
            }
        }
        return pred;
    }

    /** Accuracy of each exit on the first n images. */
    public double[] accuracy(Dataset ds, int n, int batch) {
        int[][] pred = predictions(ds, n, batch);
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
