package io.cleave.edge.image;

import io.cleave.core.engine.Preprocessor;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.image.Image8;
import io.cleave.core.image.ImageDecoder;
import io.cleave.core.image.Resampler;
import io.cleave.core.pack.Manifest;
import io.cleave.core.time.NanoClock;
import io.cleave.edge.EdgeAgent;
import io.cleave.edge.Outcome;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import javax.imageio.ImageIO;
import java.util.concurrent.CompletableFuture;

/**
 * JPEG or PNG bytes to an answer: limits checked, decoded and prepared per the pack, then
 * classified by the agent with what is left of the deadline.
 *
 * <p>A version-2 pack says how its images are prepared (shorter side resized, centre crop), and
 * that is what is done ({@link Preprocessor#pixels}). A version-1 pack (the Fashion-MNIST default:
 * 28x28 grayscale) declares nothing: an image of exactly its input takes it as is, any other is
 * fitted by the edge's own rule, the torchvision eval transform with the input's side as the resize:
 * converted to grayscale as PIL's {@code convert("L")} does, shorter side resized to the input
 * (PIL bilinear), centre-cropped. Such an answer says so ({@link PreparedImage#adapted}): the model
 * never saw images prepared like this, and its label deserves that caution.
 */
public final class ImageIntake {
    private final EdgeAgent agent;
    private final ImageLimits limits;
    private final NanoClock clock;
    private final Preprocessor preprocessor;
    private final Manifest.Input input;

    public ImageIntake(EdgeAgent agent, ImageLimits limits, NanoClock clock) {
        this.agent = agent;
        this.limits = limits;
        this.clock = clock;
        this.input = agent.pack().manifest().input();
        this.preprocessor = new Preprocessor(input);
    }

    public ImageLimits limits() {
        return limits;
    }

    /**
     * Classifies encoded image bytes by {@code budgetNanos} from now, decoding included. Never
     * throws: a bad image fails the future with INVALID_ARGUMENT, a deadline spent decoding with
     * DEADLINE_EXCEEDED, and the agent's own failures (a refusal at admission) come through.
     */
    public CompletableFuture<ImageOutcome> classify(String requestId, byte[] encoded, long budgetNanos) {
        long start = clock.nanoTime();
        try {
            PreparedImage img = prepare(encoded);
            long spent = clock.nanoTime() - start;
            if (spent >= budgetNanos) {
                return CompletableFuture.failedFuture(new CleaveException(ErrorCode.DEADLINE_EXCEEDED, String.format(Locale.ROOT,
                        "decoding the %dx%d %s image took %.1f ms, the whole deadline of %.1f ms", img.width(), img.height(),
                        img.format(), spent / 1e6, budgetNanos / 1e6)));
            }
            CompletableFuture<Outcome> answer = agent.classify(requestId, img.pixels(), budgetNanos - spent);
            CompletableFuture<ImageOutcome> out = answer.thenApply(o -> new ImageOutcome(o, img, spent + o.answer().latencyNanos()));
            out.whenComplete((r, e) -> {
                if (e instanceof java.util.concurrent.CancellationException) {
                    answer.cancel(false); // the caller gave up: so does the request's work
                }
            });
            return out;
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Decodes and prepares a synthetic 640x480 JPEG and PNG {@code rounds} times each, before
     * traffic. The first image a JVM decodes loads the JDK's codecs, and the next ten or so run
     * interpreted: measured here, a 640x427 JPEG photo took 190 ms, then 30-45 ms for ten rounds,
     * then 6 ms. After 15 synthetic rounds the photo's first decode still took 80 ms, then 25, 10,
     * 6 (its embedded colour profile takes paths the synthetic image does not), so this shortens
     * the cold start without removing it. 1 round: the codecs only.
     */
    public void warmUp(int rounds) {
        boolean grey = input.shape().get(0) == 1; // a version-2 grayscale pack refuses colour
        BufferedImage b = new BufferedImage(640, 480, grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        java.util.Random noise = new java.util.Random(7);
        for (int y = 0; y < b.getHeight(); y++) {
            for (int x = 0; x < b.getWidth(); x++) {
                b.setRGB(x, y, (x / 3 + noise.nextInt(32)) << 16 | (y / 2 + noise.nextInt(32)) << 8 | noise.nextInt(256));
            }
        }
        for (String format : new String[] {"jpeg", "png"}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                ImageIO.write(b, format, out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (int i = 0; i < Math.max(1, rounds); i++) {
                prepare(out.toByteArray());
            }
        }
    }

    /** Checks, decodes and prepares encoded bytes; throws INVALID_ARGUMENT for anything the pack cannot take. */
    public PreparedImage prepare(byte[] encoded) {
        long start = clock.nanoTime();
        if (encoded.length > limits.maxBytes()) {
            throw CleaveException.invalid("encoded image of " + encoded.length + " bytes is over this edge's limit of "
                    + limits.maxBytes() + " bytes");
        }
        Image8 img = ImageDecoder.decode(encoded, limits.maxPixels());
        String format = ImageDecoder.format(encoded);
        String what = img.width() + "x" + img.height() + " " + (img.channels() == 1 ? "grayscale" : "RGB") + " " + format;
        int c = input.shape().get(0);
        int h = input.shape().get(1);
        int w = input.shape().get(2);
        String inputName = w + "x" + h + " " + (c == 1 ? "grayscale" : "RGB");
        Manifest.Preprocessing p = input.preprocessing();
        byte[] pixels;
        String how;
        boolean adapted = false;
        if (p.resize() != null) {
            pixels = preprocessor.pixels(img); // a colour image for a grayscale version-2 pack is refused here
            how = what + ", prepared per the pack: shorter side to " + p.resize() + " (" + p.interpolation() + "), centre crop to "
                    + inputName + (img.channels() < c ? ", grayscale replicated to RGB" : "");
        } else if (img.width() == w && img.height() == h && img.channels() <= c) {
            pixels = preprocessor.pixels(img);
            how = what + ", the pack's input size: used as is" + (img.channels() < c ? " (grayscale replicated to RGB)" : "");
        } else {
            pixels = preprocessor.pixels(fitToVersion1(img, c, w, h));
            adapted = true;
            how = what + ", resized to this version-1 pack's " + inputName + " input by the edge's rule"
                    + (img.channels() > c ? " (grayscale as PIL convert(\"L\")," : " (")
                    + " shorter side to " + Math.min(w, h) + " bilinear, centre crop); the pack declares no preprocessing of its own";
        }
        return new PreparedImage(pixels, format, img.width(), img.height(), img.channels(), how, adapted, clock.nanoTime() - start);
    }

    /** The torchvision eval transform with the input's own size: grayscale if the pack is, cover, centre crop. */
    static Image8 fitToVersion1(Image8 img, int c, int w, int h) {
        Image8 src = c == 1 ? img.grayscale() : img;
        int rw;
        int rh;
        if ((long) src.width() * h >= (long) src.height() * w) { // wider than the input: height fits, width overhangs
            rh = h;
            rw = Math.max(w, (int) ((long) src.width() * h / src.height()));
        } else {
            rw = w;
            rh = Math.max(h, (int) ((long) src.height() * w / src.width()));
        }
        Image8 resized = Resampler.resize(src, rw, rh, Resampler.Filter.BILINEAR);
        int top = (int) Math.rint((rh - h) / 2.0);
        int left = (int) Math.rint((rw - w) / 2.0);
        return resized.crop(left, top, w, h);
    }
}
