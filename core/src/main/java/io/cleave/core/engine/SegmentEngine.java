package io.cleave.core.engine;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.core.plan.ExitPlacement;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the segments of a model pack (stem, any block range, any exit) at any batch size through
 * DJL's ONNX Runtime engine. Each segment is its own static graph; control flow stays here.
 *
 * <p>Runs on the device of {@link EngineOptions#device()}: ONNX Runtime's CPU execution provider, or its CUDA one
 * ({@link ComputeDevice}). DJL's own device choice is not used: every model is created on DJL's CPU device (its
 * tensors live in host memory either way, and ONNX Runtime copies them to the GPU), so DJL never adds CUDA on its own
 * and the one place the provider is chosen is here.
 *
 * <p>Thread-safe: ONNX Runtime sessions may be run concurrently.
 */
public final class SegmentEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SegmentEngine.class);
    private final ModelPack pack;
    private final int maxBlock;
    private final OrtSession.SessionOptions sessionOptions;
    private final List<Model> models = new ArrayList<>();
    private final Segment stem;
    private final Segment[] blocks; // index b-1 holds block b
    private final Segment[] exits; // null where the exit is not loaded
    private final Block[] probes; // index b-2 holds block b's probe; empty for a pack that is not reducible
    private final ParameterStore params;
    private final NDManager root;
    private final ExecutionTarget target;

    private record Segment(String file, Block block, String output) {}

    private SegmentEngine(ModelPack pack, EngineOptions options) {
        this.pack = pack;
        this.maxBlock = options.maxBlock() <= 0 ? pack.blockCount() : Math.min(options.maxBlock(), pack.blockCount());
        try {
            sessionOptions = new OrtSession.SessionOptions();
            sessionOptions.setIntraOpNumThreads(options.intraOpThreads());
            sessionOptions.setInterOpNumThreads(1);
            sessionOptions.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            sessionOptions.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            sessionOptions.addConfigEntry("session.intra_op.allow_spinning", options.spinning() ? "1" : "0");
        } catch (OrtException e) {
            throw new CleaveException(ErrorCode.INTERNAL, "cannot configure ONNX Runtime: " + e.getMessage(), e);
        }
        ComputeDevice device = options.device();
        if (device.kind() == ComputeDevice.Kind.CUDA) {
            try {
                CudaProvider.append(sessionOptions, device.index());
            } catch (CleaveException e) {
                sessionOptions.close();
                throw e;
            }
            target = ExecutionTarget.cuda(device.index());
        } else if (device.kind() == ComputeDevice.Kind.CPU) {
            target = ExecutionTarget.CPU;
        } else {
            throw new IllegalArgumentException("resolve " + device + " with SegmentEngine.open");
        }
        Manifest m = pack.manifest();
        Segments shapes = Segments.of(pack); // probed at batch 1
        int[] tokens = shapes.tokenShape(1);
        stem = load(m.stem().file(), m.stem().input(), m.stem().output(), shapes.inputShape(1), tokens);
        blocks = new Segment[maxBlock];
        for (int b = 0; b < maxBlock; b++) {
            Manifest.Block mb = m.blocks().get(b);
            blocks[b] = load(mb.file(), mb.input(), mb.output(), tokens, tokens);
        }
        exits = new Segment[pack.exitCount()];
        for (Manifest.Exit e : m.exits()) {
            if (ExitPlacement.held(e.afterBlock(), maxBlock)) {
                exits[e.index()] = load(e.file(), e.input(), e.output(), tokens, shapes.logitsShape(1));
            }
        }
        Manifest.TokenReductionSpec reduction = m.tokenReduction();
        // the edge reduces the tokens after any block it holds, with the probe of the block after it
        probes = new Block[reduction == null || !options.probes() ? 0 : Math.min(maxBlock + 1, pack.blockCount()) - 1];
        for (int i = 0; i < probes.length; i++) {
            Manifest.Probe p = reduction.probes().get(i);
            probes[i] = loadProbe(p.file(), p.input(), tokens, reduction.prefix());
        }
        root = models.get(0).getNDManager();
        params = new ParameterStore(root, false);
    }

    private Block loadProbe(String file, String inputName, int[] probeIn, int prefix) {
        Path path = pack.dir().resolve(file);
        Model model = open(path, file, inputName);
        Block block = model.getBlock();
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(new float[size(probeIn)], new Shape(toLong(probeIn)));
            NDList out = block.forward(new ParameterStore(m, false), new NDList(x), false);
            long[] att = out.size() == 2 ? out.get(0).getShape().getShape() : null;
            if (att == null || !"cls_attention".equals(out.get(0).getName()) || !"keys".equals(out.get(1).getName())
                    || !Arrays.equals(att, new long[] {probeIn[0], probeIn[1] - prefix})) {
                throw broken(path, "a probe must output cls_attention [B, T - " + prefix + "] and keys [B, T, K]");
            }
        } catch (EngineException | IllegalArgumentException e) {
            throw broken(path, "graph does not accept input of shape " + Arrays.toString(probeIn) + ": " + rootMessage(e));
        }
        return block;
    }

    /**
     * Loads the segments of {@code pack} allowed by {@code options}; validates each graph. On {@code cuda} where the
     * CUDA provider cannot load, a {@link CleaveException} (FAILED_PRECONDITION) names what is missing; on {@code auto},
     * CUDA on GPU 0 where it loads and its sessions start, else the CPU with one warning saying why.
     */
    public static SegmentEngine open(ModelPack pack, EngineOptions options) {
        if (options.device().kind() != ComputeDevice.Kind.AUTO) {
            return new SegmentEngine(pack, options);
        }
        String why = CudaProvider.unavailable(0);
        if (why == null) {
            try {
                return new SegmentEngine(pack, options.withDevice(ComputeDevice.cuda(0)));
            } catch (CleaveException e) { // e.g. no GPU: CUDA's libraries load, its sessions do not start
                why = "sessions on cuda:0 did not start: " + e.getMessage();
            }
        }
        log.warn("--device auto: CUDA execution provider unavailable ({}): running on CPU", why);
        return new SegmentEngine(pack, options.withDevice(ComputeDevice.CPU));
    }

    /** One graph of the pack loaded in ONNX Runtime, its single input checked against the manifest's name. */
    private Model open(Path path, String file, String inputName) {
        Model model = Model.newInstance(file, Device.cpu(), "OnnxRuntime"); // not DJL's default device: see the class comment
        try {
            model.load(path, null, Map.of("sessionOptions", sessionOptions));
        } catch (IOException | MalformedModelException | EngineException e) {
            model.close();
            throw broken(path, "ONNX Runtime cannot load it: " + rootMessage(e));
        }
        models.add(model);
        List<String> inputs = model.getBlock().describeInput().keys();
        if (!inputs.equals(List.of(inputName))) {
            throw broken(path, "graph inputs " + inputs + " disagree with the manifest's [" + inputName + "]");
        }
        return model;
    }

    private Segment load(String file, String inputName, String outputName, int[] probeIn, int[] probeOut) {
        Path path = pack.dir().resolve(file);
        Model model = open(path, file, inputName);
        Block block = model.getBlock();
        // a probe run checks output names and shapes, and warms the session up
        Segment seg = new Segment(file, block, outputName);
        try (NDManager m = model.getNDManager().newSubManager()) {
            NDArray x = m.create(new float[size(probeIn)], new Shape(toLong(probeIn)));
            NDList out = block.forward(new ParameterStore(m, false), new NDList(x), false);
            if (out.size() != 1 || !outputName.equals(out.get(0).getName())) {
                List<String> names = new ArrayList<>();
                out.forEach(a -> names.add(a.getName()));
                throw broken(path, "graph outputs " + names + " disagree with the manifest's [" + outputName + "]");
            }
            long[] shape = out.get(0).getShape().getShape();
            if (!Arrays.equals(shape, toLong(probeOut))) {
                throw broken(path, "graph output shape " + Arrays.toString(shape) + " disagrees with the manifest's "
                        + Arrays.toString(probeOut));
            }
        } catch (EngineException | IllegalArgumentException e) {
            throw broken(path, "graph does not accept input of shape " + Arrays.toString(probeIn) + ": " + rootMessage(e));
        }
        return seg;
    }

    public ModelPack pack() {
        return pack;
    }

    /** Where the sessions run: the device and ONNX Runtime execution provider {@code --device} resolved to. */
    public ExecutionTarget target() {
        return target;
    }

    /** Highest block loaded (k_max on an edge). */
    public int maxBlock() {
        return maxBlock;
    }

    public boolean hasExit(int exit) {
        return exits[exit] != null;
    }

    /** Image batch [B, C, H, W] (preprocessed) to tokens after the stem [B, T, D]. */
    public Tensor stem(Tensor image) {
        return run(List.of(stem), image);
    }

    /** Tokens after block {@code from} (0 = after the stem) to tokens after block {@code to}. */
    public Tensor blocks(Tensor tokens, int from, int to) {
        if (from < 0 || to > maxBlock || from > to) {
            throw CleaveException.invalid("block range (" + from + ", " + to + "] outside the loaded 0.." + maxBlock);
        }
        return run(Arrays.asList(blocks).subList(from, to), tokens);
    }

    /** Logits [B, classes] of exit {@code exit} for the tokens after its block. */
    public Tensor exit(int exit, Tensor tokens) {
        if (exit < 0 || exit >= exits.length || exits[exit] == null) {
            throw CleaveException.invalid("exit " + exit + " is not loaded here");
        }
        return run(List.of(exits[exit]), tokens);
    }

    /** What a probe gives: the class token's attention over the patch tokens [B, P], and the keys [B, T, K]. */
    public record Probe(Tensor clsAttention, Tensor keys) {}

    /** The probe of {@code block} (2..blocks, the first block after a split) on the tokens after the block before it. */
    public Probe probe(int block, Tensor tokens) {
        if (block < 2 || block - 2 >= probes.length) {
            throw CleaveException.invalid("no probe of block " + block + " loaded here"
                    + (probes.length == 0 ? " (the pack is not reducible)" : ": blocks 2.." + (probes.length + 1)));
        }
        try (NDManager m = root.newSubManager()) {
            NDArray a = m.create(FloatBuffer.wrap(tokens.data()), new Shape(toLong(tokens.shape())));
            NDList out = probes[block - 2].forward(params, new NDList(a), false);
            return new Probe(new Tensor(out.get(0).toFloatArray(), toInt(out.get(0).getShape().getShape())),
                    new Tensor(out.get(1).toFloatArray(), toInt(out.get(1).getShape().getShape())));
        } catch (EngineException e) {
            throw new CleaveException(ErrorCode.INTERNAL, "ONNX Runtime failed in the probe of block " + block + ": " + rootMessage(e), e);
        }
    }

    private Tensor run(List<Segment> chain, Tensor x) {
        if (chain.isEmpty()) {
            return x;
        }
        try (NDManager m = root.newSubManager()) {
            NDArray a = m.create(FloatBuffer.wrap(x.data()), new Shape(toLong(x.shape())));
            for (Segment s : chain) {
                a.setName(null); // outputs carry their graph's name; inputs are bound by position
                a = s.block().forward(params, new NDList(a), false).singletonOrThrow();
            }
            return new Tensor(a.toFloatArray(), toInt(a.getShape().getShape()));
        } catch (EngineException e) {
            throw new CleaveException(ErrorCode.INTERNAL, "ONNX Runtime failed in " + chain.get(0).file() + ": " + rootMessage(e), e);
        }
    }

    @Override
    public void close() {
        for (Model m : models) {
            m.close();
        }
        try {
            sessionOptions.close();
        } catch (IllegalArgumentException | IllegalStateException ignored) {
            // already closed
        }
    }

    private CleaveException broken(Path file, String problem) {
        close();
        return new CleaveException(ErrorCode.FAILED_PRECONDITION, "model pack file " + file + ": " + problem);
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    private static int size(int[] s) {
        int n = 1;
        for (int d : s) {
            n *= d;
        }
        return n;
    }

    static long[] toLong(int[] s) {
        long[] l = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            l[i] = s[i];
        }
        return l;
    }

    static int[] toInt(long[] s) {
        int[] l = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            l[i] = Math.toIntExact(s[i]);
        }
        return l;
    }
}
