package io.cleave.core.image;

/**
 * Resizes 8-bit images exactly as PIL's {@code Image.resize} does for 8-bit modes (Pillow 9,
 * {@code libImaging/Resample.c}), so that torchvision's PIL-based eval transform is reproduced bit
 * for bit: a separable convolution whose filter support widens with the downscale factor
 * (antialiasing), coefficients normalised per output pixel and rounded to 22-bit fixed point, a
 * horizontal pass rounded and clamped to 8 bits, then a vertical pass.
 */
public final class Resampler {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** The filters torchvision's {@code InterpolationMode} maps to for PIL images. */
    public enum Filter {
        BILINEAR(1.0) {
            @Override
            double weight(double x) {
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            }
        },
        BICUBIC(2.0) {
            @Override
            double weight(double x) {
                final double a = -0.5;
                x = Math.abs(x);
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
        };

        final double support;

        Filter(double support) {
            this.support = support;
        }

        abstract double weight(double x);

        /** "bilinear" or "bicubic", as a pack's manifest names it. */
        public static Filter of(String name) {
            return valueOf(name.toUpperCase(java.util.Locale.ROOT));
        }
    }

    private Resampler() {}

    /** {@code in} resized to {@code width x height}, as PIL's {@code resize((width, height), filter)}. */
    public static Image8 resize(Image8 in, int width, int height, Filter filter) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("resize to " + width + "x" + height);
        }
        if (width == in.width() && height == in.height()) {
            return in;
        }
        Coeffs horiz = coeffs(in.width(), width, filter);
        Coeffs vert = coeffs(in.height(), height, filter);
        int c = in.channels();
        byte[] src = in.planes();
        int w = in.width();
        int h = in.height();
        if (width != w) {
            // only the rows the vertical pass reads, as PIL does (the same values either way)
            int first = vert.bounds[0];
            int last = vert.bounds[2 * (height - 1)] + vert.bounds[2 * (height - 1) + 1];
            int rows = last - first;
            if (height == h) {
                first = 0;
                rows = h;
            }
            byte[] tmp = new byte[c * rows * width];
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < rows; y++) {
                    int rowIn = (ch * h + first + y) * w;
                    int rowOut = (ch * rows + y) * width;
                    for (int x = 0; x < width; x++) {
                        int min = horiz.bounds[2 * x];
                        int n = horiz.bounds[2 * x + 1];
                        int k = x * horiz.ksize;
                        int ss = 1 << (PRECISION_BITS - 1);
                        for (int i = 0; i < n; i++) {
                            ss += (src[rowIn + min + i] & 0xFF) * horiz.kk[k + i];
                        }
                        tmp[rowOut + x] = clip8(ss);
                    }
                }
            }
            if (height == h) {
                return new Image8(width, height, c, tmp);
            }
            for (int y = 0; y < height; y++) {
                vert.bounds[2 * y] -= first;
            }
            src = tmp;
            w = width;
            h = rows;
        }
        byte[] out = new byte[c * height * w];
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < height; y++) {
                int min = vert.bounds[2 * y];
                int n = vert.bounds[2 * y + 1];
                int k = y * vert.ksize;
                int rowOut = (ch * height + y) * w;
                for (int x = 0; x < w; x++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int i = 0; i < n; i++) {
                        ss += (src[(ch * h + min + i) * w + x] & 0xFF) * vert.kk[k + i];
                    }
                    out[rowOut + x] = clip8(ss);
                }
            }
        }
        return new Image8(w, height, c, out);
    }

    private record Coeffs(int ksize, int[] bounds, int[] kk) {}

    /** PIL's {@code precompute_coeffs} then {@code normalize_coeffs_8bpc}, for the box (0, inSize). */
    private static Coeffs coeffs(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = filter.support * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = Math.max(0, (int) (center - support + 0.5));
            int xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? k[x] / ww : k[x];
                kk[xx * ksize + x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    private static byte clip8(int in) {
        if (in >= (1 << PRECISION_BITS << 8)) {
            return (byte) 255;
        }
        if (in <= 0) {
            return 0;
        }
        return (byte) (in >> PRECISION_BITS);
    }
}
