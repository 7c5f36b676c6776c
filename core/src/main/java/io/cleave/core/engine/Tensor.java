package io.cleave.core.engine;

import java.util.Arrays;
import java.util.List;

/**
 * A dense row-major fp32 tensor whose first axis is the batch. Immutable by convention: engine
 * methods never write into a tensor they were given.
 */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    public Tensor(float[] data, int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int batch() {
        return shape[0];
    }

    /** Values per sample. */
    public int sampleSize() {
        return data.length / shape[0];
    }

    /** Sample {@code i} as a batch of one (copies). */
    public Tensor sample(int i) {
        int n = sampleSize();
        int[] s = shape.clone();
        s[0] = 1;
        return new Tensor(Arrays.copyOfRange(data, i * n, (i + 1) * n), s);
    }

    /** Sample {@code i}'s values (copies). */
    public float[] row(int i) {
        int n = sampleSize();
        return Arrays.copyOfRange(data, i * n, (i + 1) * n);
    }

    /** Concatenates batches along the first axis; all must share the per-sample shape. */
    public static Tensor stack(List<Tensor> parts) {
        Tensor first = parts.get(0);
        int n = first.sampleSize();
        int total = 0;
        for (Tensor t : parts) {
            if (t.sampleSize() != n || t.shape.length != first.shape.length) {
                throw new IllegalArgumentException("cannot stack " + Arrays.toString(t.shape) + " with " + Arrays.toString(first.shape));
            }
            total += t.batch();
        }
        float[] out = new float[total * n];
        int off = 0;
        for (Tensor t : parts) {
            System.arraycopy(t.data, 0, out, off, t.data.length);
            off += t.data.length;
        }
        int[] s = first.shape.clone();
        s[0] = total;
        return new Tensor(out, s);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
