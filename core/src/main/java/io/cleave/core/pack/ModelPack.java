package io.cleave.core.pack;

import com.google.gson.Gson;
import com.google.gson.JsonParseException;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A model pack on disk: a validated manifest plus the folder it lives in.
 *
 * <p>{@link #load} checks everything that can be checked without ONNX Runtime: the manifest
 * format and version, that every file it names exists and matches its sha256, and that the
 * segments are consistent. The engine checks the graphs' inputs and outputs.
 */
public final class ModelPack {
    /** The newest manifest format version this build reads; it reads every version from 1 up. */
    public static final int FORMAT_VERSION = 2;

    /** Interpolations of the version-2 resize, as torchvision names them. */
    public static final List<String> INTERPOLATIONS = List.of("bilinear", "bicubic");
    /** Thread-safe, and its type adapters for the manifest's records are built once, not on every load. */
    private static final Gson GSON = new Gson();

    private final Path dir;
    private final Manifest manifest;

    private ModelPack(Path dir, Manifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    public static ModelPack load(Path dir) {
        Path file = dir.resolve("manifest.json");
        Manifest m;
        try (Reader r = Files.newBufferedReader(file)) {
            m = GSON.fromJson(r, Manifest.class);
        } catch (NoSuchFileException e) {
            throw broken(file, "missing (is " + dir + " a model pack?)");
        } catch (IOException | JsonParseException | NumberFormatException e) {
            // Gson's lenient reader lets a malformed number through as NumberFormatException (`"opset": 1x`)
            throw broken(file, "unreadable: " + e.getMessage());
        }
        if (m == null || !"cleave-pack".equals(m.format())) {
            throw broken(file, "not a Cleave pack manifest (format is " + (m == null ? null : m.format()) + ")");
        }
        if (m.formatVersion() < 1 || m.formatVersion() > FORMAT_VERSION) {
            throw broken(file, "unknown manifest version " + m.formatVersion() + "; this build reads versions 1 to "
                    + FORMAT_VERSION);
        }
        ModelPack pack = new ModelPack(dir, m);
        pack.checkStructure(file);
        pack.checkFiles();
        return pack;
    }

    private void checkStructure(Path file) {
        require(manifest.model() != null && manifest.model().id() != null, file, "no model id");
        require(manifest.stem() != null, file, "no stem");
        require(manifest.blocks() != null && !manifest.blocks().isEmpty(), file, "no blocks");
        require(manifest.exits() != null && !manifest.exits().isEmpty(), file, "no exits");
        require(manifest.files() != null, file, "no file checksums");
        require(manifest.tokens() != null && manifest.tokens().size() > 0, file, "no token shape");
        require(manifest.input() != null && manifest.input().preprocessing() != null, file, "no input spec");
        require(manifest.labels() != null && !manifest.labels().isEmpty(), file, "no labels");
        checkInput(file);
        require(!manifest.blocks().contains(null) && !manifest.exits().contains(null), file, "a null block or exit");
        for (int i = 0; i < manifest.blocks().size(); i++) {
            require(manifest.blocks().get(i).index() == i + 1, file, "blocks must be numbered 1.." + manifest.blocks().size());
        }
        int prev = 0;
        for (int i = 0; i < manifest.exits().size(); i++) {
            Manifest.Exit e = manifest.exits().get(i);
            require(e.index() == i, file, "exits must be numbered from 0 in order");
            require(e.afterBlock() >= 1 && e.afterBlock() <= blockCount(), file,
                    "exit " + i + " sits after block " + e.afterBlock() + ", outside 1.." + blockCount());
            require(e.afterBlock() >= prev, file, "exits must be ordered by block");
            require(e.temperature() > 0, file, "exit " + i + " has temperature " + e.temperature());
            prev = e.afterBlock();
        }
        List<String> named = new ArrayList<>();
        named.add(manifest.stem().file());
        manifest.blocks().forEach(b -> named.add(b.file()));
        manifest.exits().forEach(e -> named.add(e.file()));
        Manifest.TokenReductionSpec r = manifest.tokenReduction();
        if (r != null) {
            int tokens = manifest.tokens().count();
            require(r.prefix() >= 1 && r.prefix() < tokens, file,
                    "tokenReduction.prefix " + r.prefix() + " must be 1.." + (tokens - 1) + " (tokens that always cross)");
            require(r.probes() != null && r.probes().size() == blockCount() - 1, file,
                    "tokenReduction needs a probe for each of blocks 2.." + blockCount());
            for (int i = 0; i < r.probes().size(); i++) {
                Manifest.Probe p = r.probes().get(i);
                require(p != null && p.block() == i + 2 && p.file() != null, file, "tokenReduction.probes must be for blocks 2.."
                        + blockCount() + " in order");
                require(p.outputs() != null && p.outputs().equals(List.of("cls_attention", "keys")), file,
                        "probe of block " + p.block() + " must output [cls_attention, keys], not " + p.outputs());
                named.add(p.file());
            }
        }
        for (String n : named) {
            require(manifest.files().containsKey(n), file, n + " is not listed in files (no checksum)");
        }
    }

    private void checkInput(Path file) {
        Manifest.Input in = manifest.input();
        Manifest.Preprocessing p = in.preprocessing();
        List<Integer> shape = in.shape();
        require(shape != null && shape.size() == 3 && shape.stream().allMatch(d -> d != null && d > 0), file,
                "input shape must be [channels, height, width], got " + shape);
        int c = shape.get(0);
        require(p.mean() != null && p.mean().size() == c && !p.mean().contains(null)
                && p.std() != null && p.std().size() == c && !p.std().contains(null), file,
                "preprocessing needs " + c + " means and " + c + " stds for " + c + " input channel(s)");
        require(p.std().stream().allMatch(v -> v > 0) && p.divide() > 0, file, "preprocessing divides by zero or less");
        if (manifest.formatVersion() < 2) {
            // no resize or crop: images must come at the input's size (a version-1 manifest naming them is refused, not half-read)
            require(p.resize() == null && p.crop() == null && p.interpolation() == null, file,
                    "resize, crop and interpolation are version-2 preprocessing; this manifest says version 1");
            return;
        }
        require(manifest.trained() != null, file, "version 2 needs \"trained\": true or false");
        require("RGB".equals(in.color()) && c == 3 || "GRAY".equals(in.color()) && c == 1, file,
                "input color " + in.color() + " does not fit " + c + " channel(s); expected RGB with 3, GRAY with 1");
        require(p.crop() != null && p.crop().equals(shape.get(1)) && p.crop().equals(shape.get(2)), file,
                "crop " + p.crop() + " must equal the input's height and width " + shape.subList(1, 3));
        require(p.resize() != null && p.resize() >= p.crop(), file,
                "resize " + p.resize() + " must be at least the crop " + p.crop());
        require(p.interpolation() != null && INTERPOLATIONS.contains(p.interpolation()), file,
                "interpolation " + p.interpolation() + " is not one of " + INTERPOLATIONS);
    }

    private void checkFiles() {
        for (var entry : manifest.files().entrySet()) {
            Path f;
            try {
                f = dir.resolve(entry.getKey()).normalize();
            } catch (InvalidPathException e) { // a NUL in the name
                throw broken(dir.resolve("manifest.json"), "file name " + entry.getKey() + " is not a path: " + e.getMessage());
            }
            if (!f.startsWith(dir.normalize())) {
                throw broken(f, "escapes the pack folder");
            }
            if (!Files.isRegularFile(f)) {
                throw broken(f, "missing");
            }
            String actual = sha256(f);
            if (!actual.equalsIgnoreCase(entry.getValue())) {
                throw broken(f, "checksum mismatch: manifest says sha256 " + entry.getValue() + ", file has " + actual);
            }
        }
    }

    private static void require(boolean ok, Path file, String problem) {
        if (!ok) {
            throw broken(file, problem);
        }
    }

    static CleaveException broken(Path file, String problem) {
        return new CleaveException(ErrorCode.FAILED_PRECONDITION, "model pack file " + file + ": " + problem);
    }

    static String sha256(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw broken(f, "unreadable: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    public String id() {
        return manifest.model().id();
    }

    public String version() {
        return manifest.model().version();
    }

    public int blockCount() {
        return manifest.blocks().size();
    }

    public int exitCount() {
        return manifest.exits().size();
    }

    public Manifest.Exit exit(int index) {
        return manifest.exits().get(index);
    }

    public int classes() {
        return manifest.labels().size();
    }

    /** Whether the weights were trained; false for a random-weight pack made for timing and bytes. */
    public boolean trained() {
        return manifest.trained() == null || manifest.trained();
    }

    /** Channels of the model's input: 1 (grayscale) or 3 (RGB). */
    public int channels() {
        return manifest.input().shape().get(0);
    }

    /** Index of the first exit sitting after block {@code block} or later, or exitCount(). */
    /** Whether the tokens after a block may be reduced before they cross (the pack has probes and takes any token count). */
    public boolean reducible() {
        return manifest.tokenReduction() != null;
    }

    /** Tokens that always cross a reduction (the class token, and DeiT's distillation token); 0 for a pack that is not reducible. */
    public int prefixTokens() {
        return reducible() ? manifest.tokenReduction().prefix() : 0;
    }

    public int firstExitAtOrAfter(int block) {
        for (Manifest.Exit e : manifest.exits()) {
            if (e.afterBlock() >= block) {
                return e.index();
            }
        }
        return exitCount();
    }

    /** Reads a golden tensor (little-endian fp32) named in the manifest. */
    public float[] golden(String name) {
        for (Manifest.GoldenTensor g : manifest.golden().tensors()) {
            if (g.name().equals(name)) {
                try {
                    byte[] b = Files.readAllBytes(dir.resolve(g.file()));
                    float[] out = new float[b.length / 4];
                    java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                    return out;
                } catch (IOException e) {
                    throw broken(dir.resolve(g.file()), "unreadable: " + e.getMessage());
                }
            }
        }
        throw new CleaveException(ErrorCode.NOT_FOUND, "no golden tensor " + name + " in " + dir);
    }

    @Override
    public String toString() {
        return id() + ":" + version() + " (" + blockCount() + " blocks, " + exitCount() + " exits) at " + dir;
    }
}
