package io.cleave.core.pack;

import java.util.List;
import java.util.Map;

/**
 * The {@code manifest.json} of a model pack, as written by {@code onnx-models/build_pack.py}.
 * Field names follow the JSON; see {@code docs/model-pack.md}.
 */
public record Manifest(
        String format,
        int formatVersion,
        Model model,
        Input input,
        Tokens tokens,
        List<String> labels,
        int opset,
        Segment stem,
        List<Block> blocks,
        List<Exit> exits,
        Golden golden,
        Map<String, String> files) {

    public record Model(String id, String version, String description) {}

    public record Preprocessing(double divide, List<Double> mean, List<Double> std) {}

    public record Input(String name, List<Integer> shape, String dtype, String rawDtype, Preprocessing preprocessing) {
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

    public record Accuracy(double validation, double test) {}

    public record Ece(double validationBefore, double validationAfter, double testBefore, double testAfter) {}

    public record Threshold(double threshold, double stop_rate, Double accuracy_when_stopped) {}

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
            boolean copycat) {}

    public record GoldenTensor(String name, String file, List<Integer> shape) {}

    public record Golden(List<GoldenTensor> tensors, double tolerance) {}
}
