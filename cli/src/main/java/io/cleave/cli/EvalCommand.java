package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.data.Dataset;
import io.cleave.core.data.IdxReader;
import io.cleave.core.data.ImageFolder;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.pack.Manifest;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.eval.ExitEvaluator;
import io.cleave.core.codec.JpegCodec;
import io.cleave.core.codec.TensorCodec;
import io.cleave.experiment.Progress;
import io.cleave.proto.v1.Encoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the test set through every exit and compares per-exit accuracy with the manifest. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Per-exit accuracy of the pack on the committed 10k test images (or a labelled image folder, --images); fails if it differs from the "
                + "manifest's test accuracy by more than 0.1 pp.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    PackOptions packOptions;

    @Option(names = "--data", defaultValue = "${env:CLEAVE_EVAL_DATA}",
            description = "folder with t10k IDX files (default: the committed test set; env CLEAVE_EVAL_DATA)")
    Path data;

    @Option(names = "--images", defaultValue = "${env:CLEAVE_EVAL_IMAGES}", paramLabel = "DIR",
            description = "a labelled image folder instead of the IDX test set: one sub-folder of JPEG or PNG files per class, named as "
                    + "the pack's labels, each image prepared as the pack's manifest says (how a version-2 RGB pack is evaluated) "
                    + "(default: none; env CLEAVE_EVAL_IMAGES)")
    Path images;

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    @Option(names = "--limit", defaultValue = "${env:CLEAVE_EVAL_LIMIT:-0}",
            description = "only the first N images; 0: all (default: ${DEFAULT-VALUE}; env CLEAVE_EVAL_LIMIT)")
    int limit;

    @Option(names = "--encodings", defaultValue = "${env:CLEAVE_EVAL_ENCODINGS:-false}", arity = "0..1", fallbackValue = "true",
            paramLabel = "true|false", description = "also measure every exit's accuracy with the tokens after each split sent "
            + "as FP32, FP16 and INT8, and record it in <pack>/encodings.json (the planner reads it) (default: ${DEFAULT-VALUE}; "
            + "env CLEAVE_EVAL_ENCODINGS)")
    boolean encodings;

    @Option(names = "--jpeg-qualities", split = ",", defaultValue = "${env:CLEAVE_EVAL_JPEG_QUALITIES:-50,75,90,95}",
            description = "with --encodings: the JPEG qualities (1-100) at which the input sent as JPEG is measured (default: "
                    + "${DEFAULT-VALUE}; env CLEAVE_EVAL_JPEG_QUALITIES)")
    List<Integer> jpegQualities;

    @Override
    public Integer call() {
        ModelPack pack = ModelPack.load(packOptions.pack());
        if (images != null && data != null) {
            throw new IllegalArgumentException("--images and --data both name the test images: give one");
        }
        Dataset ds = images != null ? ImageFolder.read(images, pack) : IdxReader.read(data != null ? data : Paths.defaultData(), "t10k");
        if (ds.pixels() != pack.manifest().input().size()) {
            throw new IllegalArgumentException("pack " + pack.id() + " takes " + pack.manifest().input().shape() + " images and the IDX test "
                    + "set's are [1, " + ds.height() + ", " + ds.width() + "]: give --images DIR (one folder of images per label)");
        }
        int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
        long t0 = System.nanoTime();
        double[] acc;
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(packOptions.threads));
                Progress bar = Progress.bar("images", n)) {
            acc = new ExitEvaluator(engine).onBatch(bar::stepBy).accuracy(ds, n, 100);
        }
        if (encodings) {
            recordEncodings(pack, ds, n);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        boolean ok = true;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Manifest.Exit e : pack.manifest().exits()) {
            Double want = e.accuracy() == null ? null : e.accuracy().test(); // null: the pack records no test accuracy
            boolean match = n < ds.size() || want == null || Math.abs(acc[e.index()] - want) * 100 <= 0.1;
            ok &= match;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("exit", e.index());
            row.put("block", e.afterBlock());
            row.put("type", e.type());
            row.put("accuracy", acc[e.index()]);
            row.put("manifestAccuracy", want);
            row.put("matchesManifest", match);
            rows.add(row);
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", pack.id());
            out.put("version", pack.version());
            out.put("trained", pack.trained());
            out.put("images", n);
            out.put("exits", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
        } else {
            Untrained.print(System.out, pack);
            System.out.printf("%s %s on %d test images (%.1f s)%n", pack.id(), pack.version(), n, seconds);
            System.out.printf("%-5s %-6s %-7s %10s %10s%n", "exit", "block", "type", "accuracy", "manifest");
            for (Map<String, Object> r : rows) {
                Object want = r.get("manifestAccuracy");
                System.out.printf("%-5s %-6s %-7s %9.2f%% %10s%s%n", r.get("exit"), r.get("block"), r.get("type"),
                        100 * (double) r.get("accuracy"), want == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.2f%%", 100 * (double) want),
                        (boolean) r.get("matchesManifest") ? "" : "  MISMATCH");
            }
        }
        return ok ? 0 : 1;
    }

    private void recordEncodings(ModelPack pack, Dataset ds, int n) {
        for (int q : jpegQualities) {
            if (q < 1 || q > 100) {
                throw new IllegalArgumentException("--jpeg-qualities: each must be 1 to 100, got " + q);
            }
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        long passes = 1 + jpegQualities.size() + 2L * (pack.blockCount() - 1); // fp32 after a split reuses the plain pass
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(packOptions.threads));
                Progress bar = Progress.bar("encodings", passes * n)) {
            ExitEvaluator ev = new ExitEvaluator(engine).onBatch(bar::stepBy);
            double[] lossless = ExitEvaluator.accuracy(ev.predictions(ds, n, 250), ds, n);
            for (int q : jpegQualities) {
                rows.add(jpegRow(ev, ds, n, q));
            }
            for (int split = 1; split < pack.blockCount(); split++) {
                for (Encoding enc : new Encoding[] {Encoding.FP32, Encoding.FP16, Encoding.INT8}) {
                    // fp32 carries the tokens bit for bit: its accuracy is the plain one
                    double[] acc = enc == Encoding.FP32 ? lossless : ExitEvaluator.accuracy(ev.predictions(ds, n, 250, split, enc), ds, n);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("split", split);
                    row.put("encoding", enc.name());
                    row.put("bytes", TensorCodec.payloadBytes(enc, pack.manifest().tokens().count(), pack.manifest().tokens().dim()));
                    row.put("exitAccuracy", acc);
                    rows.add(row);
                    Progress.print(System.err, String.format("split %d %-4s %s%n", split, enc, Arrays.toString(acc)));
                }
            }
        }
        writeEncodings(pack, n, images != null ? "image folder " + images.getFileName() : "IDX t10k test set", rows);
    }

    /** Every test image through JPEG at quality q and back, then every exit: the accuracy, size and time a JPEG input costs. */
    private static Map<String, Object> jpegRow(ExitEvaluator ev, Dataset ds, int n, int q) {
        int c = ds.channels();
        byte[] round = new byte[n * ds.pixels()];
        long[] sizes = new long[n];
        for (int i = 0; i < Math.min(n, 500); i++) { // warm the codec up before timing it
            JpegCodec.decodePixels(JpegCodec.encode(ds.image(i), c, ds.height(), ds.width(), q), c, ds.height(), ds.width());
        }
        long[] codecNanos = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            byte[] jpeg = JpegCodec.encode(ds.image(i), c, ds.height(), ds.width(), q);
            byte[] px = JpegCodec.decodePixels(jpeg, c, ds.height(), ds.width());
            codecNanos[i] = System.nanoTime() - t0;
            sizes[i] = jpeg.length;
            System.arraycopy(px, 0, round, i * ds.pixels(), ds.pixels());
        }
        Dataset jpegDs = new Dataset(round, Arrays.copyOf(ds.labels(), n), c, ds.height(), ds.width());
        double[] acc = ExitEvaluator.accuracy(ev.predictions(jpegDs, n, 250), jpegDs, n);
        long[] sorted = sizes.clone();
        Arrays.sort(sorted);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("split", 0);
        row.put("encoding", Encoding.JPEG.name());
        row.put("quality", q);
        row.put("bytes", Math.round(Arrays.stream(sizes).average().orElse(0)));
        row.put("p90Bytes", sorted[(int) Math.min(n - 1, Math.ceil(0.9 * n) - 1)]);
        Arrays.sort(codecNanos); // the median: a mean over 10k calls on a shared machine is GC pauses and neighbours
        row.put("codecUs", Math.round(codecNanos[n / 2] / 1e2) / 10.0);
        row.put("exitAccuracy", acc);
        Progress.print(System.err, String.format("split 0 JPEG q%d: %s bytes, %s%n", q, row.get("bytes"), Arrays.toString(acc)));
        return row;
    }

    private static void writeEncodings(ModelPack pack, int n, String source, List<Map<String, Object>> rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", pack.id());
        out.put("version", pack.version());
        out.put("images", n);
        out.put("imageSource", source);
        out.put("note", "per-exit test accuracy with the tokens after `split` sent through the wire codec; exits at or "
                + "before the split are computed locally and unaffected. Split 0 (raw U8 image, "
                + pack.manifest().input().size() + " bytes) is lossless; split 0 JPEG rows: each test image through the JPEG "
                + "encoder at `quality` and back, `bytes` its mean size, `p90Bytes` the 90th percentile, `codecUs` the median "
                + "encode + decode time on the measuring machine. Written by ./cleave eval --encodings.");
        out.put("rows", rows);
        Path file = pack.dir().resolve("encodings.json");
        try {
            Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(out) + "\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        System.err.println("recorded " + file);
    }
}
