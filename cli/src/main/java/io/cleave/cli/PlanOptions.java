package io.cleave.cli;

import io.cleave.core.codec.JpegCodec;
import io.cleave.core.plan.BlockSkip;
import io.cleave.core.plan.Plan;
import io.cleave.core.reduce.TokenReduction;
import io.cleave.edge.EdgeConfig;
import io.cleave.proto.v1.Encoding;
import java.util.List;
import picocli.CommandLine.Option;

/** The edge's fixed plan, from configuration. */
final class PlanOptions {
    @Option(names = "--k-max", defaultValue = "${env:CLEAVE_EDGE_K_MAX:-" + EdgeConfig.DEFAULT_K_MAX + "}",
            description = "blocks the device holds (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_K_MAX)")
    int kMax;

    @Option(names = "--worker", split = ",", defaultValue = "${env:CLEAVE_WORKERS}",
            description = "cloud worker host:port (repeat or comma-separate) (default: none, edge only; env CLEAVE_WORKERS)")
    List<String> workers;

    @Option(names = "--split", defaultValue = "${env:CLEAVE_EDGE_SPLIT:-2}",
            description = "0: send the input; k: send tokens after block k (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_SPLIT)")
    int split;

    @Option(names = "--encoding", defaultValue = "${env:CLEAVE_EDGE_ENCODING:-fp16}", converter = EncodingConverter.class,
            description = "fp32, fp16 or int8 for tokens; at --split 0 the input goes raw (raw) unless this is jpeg "
                    + "(default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_ENCODING)")
    Encoding encoding;

    /** The encodings a user chooses, in any case; the proto's other values (unspecified, the raw image) are not choices. */
    static final class EncodingConverter implements picocli.CommandLine.ITypeConverter<Encoding> {
        @Override
        public Encoding convert(String value) {
            String v = value.trim();
            for (Encoding e : List.of(Encoding.FP32, Encoding.FP16, Encoding.INT8, Encoding.JPEG)) {
                if (e.name().equalsIgnoreCase(v)) {
                    return e;
                }
            }
            if (v.equalsIgnoreCase("raw") || v.equalsIgnoreCase(Encoding.U8_IMAGE.name())) {
                return Encoding.U8_IMAGE; // the input's 8-bit pixels, at --split 0
            }
            throw new picocli.CommandLine.TypeConversionException("expected fp32, fp16, int8, jpeg or raw, got '" + value + "'");
        }
    }

    @Option(names = "--reduce-tokens", defaultValue = "${env:CLEAVE_EDGE_REDUCE_TOKENS:-none}", converter = ReductionConverter.class,
            description = "a fixed plan's token reduction at its split: none, attention:KEEP (EViT: the patch tokens the class token "
                    + "attends to most, the rest fused) or merge:KEEP (ToMe: similar tokens averaged), KEEP the share of patch tokens "
                    + "sent, in (0, 1]; needs a reducible pack and --split of at least 1 (default: ${DEFAULT-VALUE}; env "
                    + "CLEAVE_EDGE_REDUCE_TOKENS)")
    TokenReduction reduceTokens = TokenReduction.NONE;

    /** A value parsed by the type's own {@code parse}, whose message names what is allowed. */
    abstract static class Parsing<T> implements picocli.CommandLine.ITypeConverter<T> {
        abstract T parse(String value);

        @Override
        public T convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code none}, {@code attention:KEEP} or {@code merge:KEEP}. */
    static final class ReductionConverter extends Parsing<TokenReduction> {
        @Override
        TokenReduction parse(String value) {
            return TokenReduction.parse(value);
        }
    }

    @Option(names = "--skip-blocks", defaultValue = "${env:CLEAVE_EDGE_SKIP_BLOCKS:-none}", converter = SkipConverter.class,
            description = "a fixed plan's blocks left out, comma-separated (e.g. 5,6): the edge skips those up to --split, the worker "
                    + "those after it; their tokens pass on unchanged (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_SKIP_BLOCKS)")
    BlockSkip skipBlocks = BlockSkip.NONE;

    /** {@code none} or block numbers. */
    static final class SkipConverter extends Parsing<BlockSkip> {
        @Override
        BlockSkip parse(String value) {
            return BlockSkip.parse(value);
        }
    }

    @Option(names = "--jpeg-quality", defaultValue = "${env:CLEAVE_EDGE_JPEG_QUALITY:-" + JpegCodec.DEFAULT_QUALITY + "}",
            description = "quality (1-100) of the JPEG sent when the input goes as JPEG (a fixed --split 0 --encoding JPEG, or the "
                    + "planner's choice, which it offers only at a quality measured in the pack's encodings.json) "
                    + "(default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_JPEG_QUALITY)")
    int jpegQuality = JpegCodec.DEFAULT_QUALITY;

    @Option(names = "--threshold", defaultValue = "${env:CLEAVE_EDGE_THRESHOLD:-2}",
            description = "answer at once from a local exit at this calibrated confidence; above 1: the planner chooses, fixed plans never "
            + "answer early (default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_THRESHOLD)")
    double threshold;

    @Option(names = "--policy", defaultValue = "${env:CLEAVE_EDGE_POLICY:-" + EdgeConfig.DEFAULT_POLICY + "}", completionCandidates = EdgePolicies.class,
            description = "fixed (--split/--encoding as given), or a planner run on live measurements; one of ${COMPLETION-CANDIDATES} "
                    + "(default: ${DEFAULT-VALUE}; env CLEAVE_EDGE_POLICY)")
    String policy;

    /** The policies an edge runs, from the registry. */
    static final class EdgePolicies implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return io.cleave.core.plan.PolicyRegistry.edgePolicies().iterator();
        }
    }

    @Option(names = "--deadline-ms", defaultValue = "${env:CLEAVE_DEADLINE_MS:-30}",
            description = "deadline per request (default: ${DEFAULT-VALUE}; env CLEAVE_DEADLINE_MS)")
    double deadlineMs;

    /**
     * Refuses what would fail later or silently do nothing, naming the option: workers that are not host:port, a k-max
     * beyond the pack, a threshold or deadline out of range, and a fixed plan's split or encoding given without a worker.
     */
    void check(picocli.CommandLine.ParseResult parsed, io.cleave.core.pack.ModelPack pack) {
        int packBlocks = pack.blockCount();
        if (skipBlocks.any() && !io.cleave.core.plan.PolicyRegistry.FIXED.equals(policy)) {
            throw new IllegalArgumentException("--skip-blocks " + skipBlocks + " is a fixed plan's: it needs --policy fixed (the planners "
                    + "choose their own), got --policy " + policy);
        }
        for (int k : skipBlocks.blocks()) {
            if (k > packBlocks) {
                throw new IllegalArgumentException("--skip-blocks " + skipBlocks + ": the pack has blocks 1 to " + packBlocks + ", not " + k);
            }
        }
        if (reduceTokens.reduces() && !io.cleave.core.plan.PolicyRegistry.FIXED.equals(policy)) {
            throw new IllegalArgumentException("--reduce-tokens " + reduceTokens + " is a fixed plan's: it needs --policy fixed (the planners "
                    + "do not choose token reductions yet), got --policy " + policy);
        }
        if (reduceTokens.reduces() && !pack.reducible()) {
            throw new IllegalArgumentException("--reduce-tokens " + reduceTokens + " needs a reducible pack; " + pack.id() + " "
                    + pack.version() + " takes a fixed token count (make it reducible with onnx-models/add_token_reduction.py)");
        }
        for (String w : workers()) {
            io.cleave.core.net.HostPort.parse(w, "--worker");
        }
        if (kMax < 0 || kMax > packBlocks) {
            throw new IllegalArgumentException("--k-max must be 0 to " + packBlocks + " (the pack's blocks), got " + kMax);
        }
        if (!(threshold >= 0)) {
            throw new IllegalArgumentException("--threshold must be 0 to 1 (or above 1: never answer early), got " + threshold);
        }
        if (!(deadlineMs > 0)) {
            throw new IllegalArgumentException("--deadline-ms must be positive, got " + deadlineMs);
        }
        if (workers().isEmpty()) {
            for (String option : List.of("--split", "--encoding", "--jpeg-quality", "--reduce-tokens")) {
                if (parsed.hasMatchedOption(option)) {
                    throw new IllegalArgumentException(option + " " + parsed.matchedOption(option).getValue().toString().toLowerCase(java.util.Locale.ROOT)
                            + " needs --worker: without a worker nothing is sent and every request runs on the device");
                }
            }
        }
    }

    List<String> workers() {
        return workers == null ? List.of() : workers.stream().filter(s -> !s.isBlank()).toList();
    }

    Plan plan() {
        if (kMax < 0) {
            throw new IllegalArgumentException("--k-max must be >= 0, got " + kMax);
        }
        if (workers().isEmpty()) {
            return Plan.edgeOnly(kMax, threshold).withSkip(skipBlocks);
        }
        if (split < 0 || split > kMax) {
            throw new IllegalArgumentException("--split " + split + " must be within 0..k-max (" + kMax + ")");
        }
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new IllegalArgumentException("--jpeg-quality must be 1 to 100, got " + jpegQuality);
        }
        if (split > 0 && (encoding == Encoding.JPEG || encoding == Encoding.U8_IMAGE)) {
            throw new IllegalArgumentException("--encoding " + encoding + " sends the input: it needs --split 0; tokens after block "
                    + split + " go as FP32, FP16 or INT8");
        }
        if (reduceTokens.reduces() && split < 1) {
            throw new IllegalArgumentException("--reduce-tokens " + reduceTokens + " reduces the tokens after a block: it needs --split 1 or more, "
                    + "got " + split);
        }
        Encoding enc = split > 0 ? encoding : encoding == Encoding.JPEG ? Encoding.JPEG : Encoding.U8_IMAGE;
        return new Plan(true, split, enc, threshold, kMax, reduceTokens, skipBlocks);
    }
}
