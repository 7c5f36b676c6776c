package io.cleave.core.engine;

/** Temperature-scaled softmax: the calibrated probabilities every exit result carries. */
public final class Calibration {
    private Calibration() {}

    /** softmax(logits[off..off+n) / temperature). */
    public static float[] probabilities(float[] logits, int off, int n, double temperature) {
        float[] p = new float[n];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[off + i] / temperature);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(logits[off + i] / temperature - max);
            p[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < n; i++) {
            p[i] = (float) (p[i] / sum);
        }
        return p;
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Index of the largest of logits[off..off+n). */
    public static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
