package io.cleave.core.engine;

import io.cleave.core.error.CleaveException;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;

/**
 * Raw uint8 pixels to the model's input, exactly as the pack's manifest says (in fp32, in the
 * same order of operations as the Python side, so results match bit for bit).
 */
public final class Preprocessor {
    private final int[] shape;
    private final float divide;
    private final float[] mean;
    private final float[] std;
    private final int plane;

    public Preprocessor(ModelPack pack) {
        Manifest.Input in = pack.manifest().input();
        shape = in.shape().stream().mapToInt(Integer::intValue).toArray();
        divide = (float) in.preprocessing().divide();
        int c = shape[0];
        mean = new float[c];
        std = new float[c];
        for (int i = 0; i < c; i++) {
            mean[i] = in.preprocessing().mean().get(i).floatValue();
            std[i] = in.preprocessing().std().get(i).floatValue();
        }
        plane = in.size() / c;
    }

    /** Values per sample. */
    public int size() {
        return plane * shape[0];
    }

    /** {@code n} images of raw pixels (n x C x H x W bytes) to a batch tensor. */
    public Tensor apply(byte[] pixels, int n) {
        if (pixels.length != n * size()) {
            throw CleaveException.invalid("image must have " + size() + " pixels, got " + pixels.length / Math.max(1, n));
        }
        float[] out = new float[pixels.length];
        for (int i = 0; i < out.length; i++) {
            int ch = (i / plane) % shape[0];
            out[i] = ((pixels[i] & 0xFF) / divide - mean[ch]) / std[ch];
        }
        return new Tensor(out, batchShape(n));
    }

    /** Same, from pixel values already widened to float (0..255). */
    public Tensor apply(float[] pixels, int n) {
        if (pixels.length != n * size()) {
            throw CleaveException.invalid("image must have " + size() + " pixels, got " + pixels.length / Math.max(1, n));
        }
        float[] out = new float[pixels.length];
        for (int i = 0; i < out.length; i++) {
            int ch = (i / plane) % shape[0];
            out[i] = (pixels[i] / divide - mean[ch]) / std[ch];
        }
        return new Tensor(out, batchShape(n));
    }

    private int[] batchShape(int n) {
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }
}
