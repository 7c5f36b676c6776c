package io.cleave.core.pack;

import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a model pack, as written by {@code onnx-models/build_pack.py}
 * (version 1) and {@code onnx-models/import_vit.py} (version 2). Field names follow the JSON; see
 * {@code onnx-models/README.md}. Fields that only version 2 has are null in a version-1 manifest.
 */
public record Manifest(
        String format,
        int formatVersion,
        Model model,
        Boolean trained,
        Source source,
        Input input,
        Tokens tokens,
        List<String> labels,
        int opset,
        Segment stem,
        List<Block> blocks,
        List<Exit> exits,
        Golden golden,
        Map<String, String> files,
        TokenReductionSpec tokenReduction,
        BlockSkipping blockSkipping) {

    public record Model(String id, String version, String description) {}

    /** Where an imported model came from (version 2): torchvision, timm or random-init. */
    public record Source(String kind, String layout, String file, String sha256, String check) {}

    /**
     * {@code (x / divide - mean[c]) / std[c]} per channel. Version 2 adds torchvision's resize and
     * crop: the shorter side resized to {@code resize} ({@code bilinear} or {@code bicubic}, as PIL
     * does it), then a centred {@code crop} x {@code crop} square. Null there: the image must
     * already have the input's size.
     */
    public record Preprocessing(double divide, List<Double> mean, List<Double> std, Integer resize, String interpolation,
            Integer crop) {}

    /** {@code color}: "RGB" or "GRAY" (version 2; version 1 input is grayscale). */
    public record Input(String name, List<Integer> shape, String dtype, String rawDtype, Preprocessing preprocessing,
            String color) {
        /** Number of values in one input sample. */
        public int size() {
            return shape.stream().reduce(1, (a, b) -> a * b);
        }
    }

    public record Tokens(int count, int dim) {
        public int size() {
            return count * dim;
        }
    }

    public record Segment(String file, String input, String output, long params, long flops) {}

    public record Block(int index, String file, String input, String output, long params, long flops) {}

    /**
     * Measured accuracy; null for an exit nobody measured (an imported pack's, untrained exits).
     * {@code test} is null where there was no test set: exits that import_vit.py trained on a
     * user's image folder without {@code --test-images} are measured on validation only.
     */
    public record Accuracy(double validation, Double test) {}

    /** Expected calibration error; the test fields are null where there was no test set. */
    public record Ece(double validationBefore, double validationAfter, Double testBefore, Double testAfter) {}

    public record Threshold(double threshold, double stop_rate, Double accuracy_when_stopped) {}

    /**
     * {@code trained} (version 2): whether this exit's own weights were trained. The manifest's
     * top-level {@code trained} describes the backbone and its own head only, so a random-weight
     * backbone can carry exits trained on it (import_vit.py --train-images).
     */
    public record Exit(
            int index,
            int afterBlock,
            String type,
            String file,
            String input,
            String output,
            long params,
            long flops,
            double temperature,
            Accuracy accuracy,
            Ece ece,
            List<Threshold> thresholds,
            boolean copycat,
            Boolean trained,
            Boolean reducedTokens) {
        /** Whether this exit runs on reduced tokens (it reads them as a set); false where the manifest does not say. */
        public boolean acceptsReducedTokens() {
            return Boolean.TRUE.equals(reducedTokens);
        }
    }

    /**
     * A reducible pack's token reduction (onnx-models/add_token_reduction.py): blocks and the exits marked
     * {@code reducedTokens} take any token count; {@code prefix} tokens (class, distillation) always cross; a probe
     * graph per block from the second on gives the scores on the tokens after the block before it; {@code costs}: what
     * each split, method and keep ratio measured.
     */
    public record TokenReductionSpec(int prefix, List<String> methods, List<Probe> probes, List<Double> keeps,
            Integer fullTokens, List<ReductionCost> costs) {}

    /** The probe of {@code block}: tokens [B, T, D] to {@code cls_attention} [B, T - prefix] and {@code keys} [B, T, K]. */
    public record Probe(int block, String file, String input, List<String> outputs, Long params, Long flops) {}

    /** One measured reduction: its tokens, bytes per wire encoding, the cloud's FLOPs and each cloud exit's accuracy. */
    public record ReductionCost(int split, String method, double keep, int tokens, Map<String, Long> bytes, long cloudFlops,
            List<ExitCost> exits) {}

    /** An exit's accuracy on reduced tokens; null where nobody measured it (an untrained pack: timing and bytes only). */
    public record ExitCost(int index, Double validation, Double test) {}

    /**
     * What leaving out blocks costs (onnx-models/add_block_skipping.py): per set of skipped blocks, the accuracy of every
     * exit at or after the first of them (those before it are unchanged).
     */
    public record BlockSkipping(List<SkipSet> sets) {}

    public record SkipSet(List<Integer> skip, List<ExitCost> exits) {}

    public record GoldenTensor(String name, String file, List<Integer> shape) {}

    /**
     * Recorded tensors. {@code photos} (version 2, optional): the real images, by file name, whose
     * preprocessed input and source logits are recorded as {@code photo_input} and
     * {@code photo_source_logits}.
     */
    public record Golden(List<GoldenTensor> tensors, double tolerance, List<String> photos) {}
}
