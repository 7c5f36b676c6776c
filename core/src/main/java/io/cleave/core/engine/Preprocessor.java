package io.cleave.core.engine;

import io.cleave.core.error.CleaveException;
import io.cleave.core.image.Image8;
import io.cleave.core.image.ImageDecoder;
import io.cleave.core.image.Resampler;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;

/**
 * Images to the model's input, exactly as the pack's manifest says.
 *
 * <p>Raw uint8 pixels of the input's size ({@link #apply(byte[], int)}) are normalised in fp32, in
 * the same order of operations as the Python side, so results match bit for bit. Encoded JPEG or
 * PNG bytes ({@link #image(byte[])}) are first decoded and, for a version-2 pack, brought to the
 * input's size as torchvision's eval transform does on a PIL image: the shorter side resized to
 * {@code resize} (PIL's bilinear or bicubic, reproduced exactly by {@link Resampler}), then a centred
 * crop. A version-1 pack has no resize step: its images must come at the input's size. A colour
 * image for a grayscale pack is an error, never a silent conversion; a grayscale image for an RGB
 * pack is replicated to three channels, as PIL's {@code convert("RGB")} does.
 */
public final class Preprocessor {
    private final int[] shape;
    private final float divide;
    private final float[] mean;
    private final float[] std;
    private final int plane;
    private final Integer resize;
    private final Resampler.Filter filter;

    public Preprocessor(ModelPack pack) {
        this(pack.manifest().input());
    }

    /** From an input spec as a manifest has it (validated by {@link ModelPack#load}). */
    public Preprocessor(Manifest.Input in) {
        shape = in.shape().stream().mapToInt(Integer::intValue).toArray();
        divide = (float) in.preprocessing().divide();
        resize = in.preprocessing().resize();
        filter = resize == null ? null : Resampler.Filter.of(in.preprocessing().interpolation());
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

    /** Encoded JPEG or PNG bytes to a batch of one. */
    public Tensor image(byte[] encoded) {
        return image(ImageDecoder.decode(encoded));
    }

    /** A decoded image to a batch of one. */
    public Tensor image(Image8 img) {
        return apply(pixels(img), 1);
    }

    /**
     * The 8-bit pixels the model sees, {@code [C][H][W]} at the input's size: channels checked (a
     * grayscale image replicated for an RGB pack), shorter side resized and centre-cropped
     * (version 2), or the size checked (version 1).
     */
    public byte[] pixels(Image8 img) {
        int c = shape[0];
        int h = shape[1];
        int w = shape[2];
        if (img.channels() != c) {
            if (c == 1) {
                throw CleaveException.invalid("this pack takes grayscale images; the image has " + img.channels()
                        + " colour channels (" + img.width() + "x" + img.height() + ")");
            }
            img = img.asRgb();
        }
        if (resize == null) {
            if (img.width() != w || img.height() != h) {
                throw CleaveException.invalid("this pack takes " + w + "x" + h + " images and has no resize step; the image is "
                        + img.width() + "x" + img.height());
            }
            return img.planes();
        }
        // torchvision's Resize(int): the shorter side becomes `resize`, the longer keeps the aspect (truncated)
        int shortSide = Math.min(img.width(), img.height());
        int longSide = Math.max(img.width(), img.height());
        int newLong = (int) ((double) ((long) resize * longSide) / shortSide);
        boolean portrait = img.width() <= img.height();
        int rw = portrait ? resize : newLong;
        int rh = portrait ? newLong : resize;
        Image8 resized = Resampler.resize(img, rw, rh, filter);
        // torchvision's CenterCrop: offsets rounded half to even, as Python's round()
        int top = (int) Math.rint((rh - h) / 2.0);
        int left = (int) Math.rint((rw - w) / 2.0);
        return resized.crop(left, top, w, h).planes();
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
