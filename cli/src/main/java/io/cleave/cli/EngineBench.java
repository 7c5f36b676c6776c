package io.cleave.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.pack.Segments;
import io.cleave.experiment.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Per-segment latency through the Java engine and through PyTorch eager, same threads, one run. */
@Command(name = "engine", mixinStandardHelpOptions = true,
        description = "Median latency of the stem, every block and every exit at batch 1 and 8: Java (DJL + ONNX Runtime) "
                + "vs PyTorch eager with the same thread count, and the ratio Java/PyTorch.")
final class EngineBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--json", description = "print the result as JSON (default: off)")
    boolean json;

    @Option(names = "--iters", defaultValue = "${env:CLEAVE_BENCH_ENGINE_ITERS:-300}",
            description = "timed calls per segment and batch (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_ENGINE_ITERS)")
    int iters;

    @Option(names = "--warmup", defaultValue = "${env:CLEAVE_BENCH_ENGINE_WARMUP:-50}",
            description = "untimed calls before them (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_ENGINE_WARMUP)")
    int warmup;

    @Option(names = "--python", defaultValue = "${env:CLEAVE_PYTHON:-/usr/bin/python3}",
            description = "Python with PyTorch (default: ${DEFAULT-VALUE}; env CLEAVE_PYTHON)")
    String python;

    @Option(names = "--checkpoint", defaultValue = "${env:CLEAVE_BENCH_ENGINE_CHECKPOINT}",
            description = "a version-1 pack's PyTorch checkpoint; a version-2 pack "
            + "is rebuilt from its manifest (default: onnx-models/checkpoints/<model>-final.pt; env CLEAVE_BENCH_ENGINE_CHECKPOINT)")
    Path checkpoint;

    @Option(names = "--source-weights", defaultValue = "${env:CLEAVE_BENCH_ENGINE_SOURCE_WEIGHTS}",
            description = "the torchvision/timm file a version-2 pack was imported from (default: random "
            + "weights of its geometry; a --random-init pack needs none; env CLEAVE_BENCH_ENGINE_SOURCE_WEIGHTS)")
    Path sourceWeights;

    @Override
    public Integer call() throws Exception {
        if (iters < 1 || warmup < 0) {
            throw new IllegalArgumentException("--iters must be >= 1 and --warmup >= 0, got " + iters + " and " + warmup);
        }
        ModelPack pack = ModelPack.load(packOptions.pack());
        int threads = packOptions.threads;
        int[] batches = {1, 8};
        Map<String, Double> java = new LinkedHashMap<>();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(threads));
                Progress bar = Progress.bar("segments", batches.length * (1L + pack.blockCount() + pack.exitCount()))) {
            Segments segments = Segments.of(pack);
            for (int b : batches) {
                int[] is = segments.inputShape(b);
                Tensor img = new Tensor(new float[b * Segments.sampleSize(is)], is);
                Tensor tok = engine.stem(img);
                java.put("stem|" + b, medianUs(bar, x -> engine.stem(x), img));
                for (int k = 1; k <= pack.blockCount(); k++) {
                    int kk = k;
                    java.put("block " + k + "|" + b, medianUs(bar, x -> engine.blocks(x, kk - 1, kk), tok));
                }
                for (int e = 0; e < pack.exitCount(); e++) {
                    int ee = e;
                    java.put("exit " + e + "|" + b, medianUs(bar, x -> engine.exit(ee, x), tok));
                }
                if (tok.sampleSize() != Segments.sampleSize(segments.tokenShape(b))) {
                    throw new IllegalStateException("token shape");
                }
            }
        }
        Map<String, Double> torch = new LinkedHashMap<>();
        String torchNote = runTorch(pack, threads, torch);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (var e : java.entrySet()) {
            String[] k = e.getKey().split("\\|");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("segment", k[0]);
            r.put("batch", Integer.parseInt(k[1]));
            r.put("javaUs", e.getValue());
            Double p = torch.get(e.getKey());
            r.put("pytorchUs", p);
            r.put("ratio", p == null ? null : e.getValue() / p);
            rows.add(r);
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("pack", pack.id());
            out.put("trained", pack.trained());
            out.put("threads", threads);
            out.put("pytorch", torchNote);
            out.put("rows", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(out));
            return 0;
        }
        Untrained.print(System.out, pack);
        System.out.printf("engine latency, pack %s (%d blocks, %dx%d tokens), median us of %d, %d intra-op thread(s); PyTorch: %s%n",
                pack.id(), pack.blockCount(), pack.manifest().tokens().count(), pack.manifest().tokens().dim(), iters, threads, torchNote);
        System.out.printf("%-10s %5s %12s %12s %8s%n", "segment", "batch", "java", "pytorch", "java/pt");
        double sumJ = 0;
        double sumP = 0;
        Map<Integer, double[]> blockSums = new LinkedHashMap<>();
        for (Map<String, Object> r : rows) {
            Double p = (Double) r.get("pytorchUs");
            System.out.printf("%-10s %5d %12.1f %12s %8s%n", r.get("segment"), (int) r.get("batch"), (double) r.get("javaUs"),
                    p == null ? "-" : String.format("%.1f", p), p == null ? "-" : String.format("%.2fx", (double) r.get("ratio")));
            if (p != null && ((String) r.get("segment")).startsWith("block ")) {
                double[] b = blockSums.computeIfAbsent((int) r.get("batch"), k -> new double[2]);
                b[0] += (double) r.get("javaUs");
                b[1] += p;
            }
            if (p != null && (int) r.get("batch") == 1) {
                sumJ += (double) r.get("javaUs");
                sumP += p;
            }
        }
        if (sumP > 0) {
            System.out.printf("whole model at batch 1 (sum of segments): java %.1f us, pytorch %.1f us, ratio %.2fx%n", sumJ, sumP, sumJ / sumP);
        }
        for (var b : blockSums.entrySet()) {
            System.out.printf("blocks 1-%d at batch %d (sum): java %.1f us, pytorch %.1f us, ratio %.2fx%n", pack.blockCount(), b.getKey(),
                    b.getValue()[0], b.getValue()[1], b.getValue()[0] / b.getValue()[1]);
        }
        return 0;
    }

    /** Warm-up calls, then the median of {@code iters} timed ones; one step of {@code bar}. */
    private double medianUs(Progress bar, UnaryOperator<Tensor> f, Tensor x) {
        for (int i = 0; i < warmup; i++) {
            f.apply(x);
        }
        long[] t = new long[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            f.apply(x);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        bar.step();
        return t[iters / 2] / 1e3;
    }

    /** Runs bench_torch.py on the same pack; returns a note for the header ("skipped (why)" when it cannot). */
    private String runTorch(ModelPack pack, int threads, Map<String, Double> out) {
        List<String> cmd = new ArrayList<>(List.of(python, Paths.home().resolve("onnx-models/bench_torch.py").toString()));
        if (pack.manifest().formatVersion() >= 2) {
            cmd.addAll(List.of("--pack", packOptions.pack().toString()));
            if (sourceWeights != null) {
                cmd.addAll(List.of("--source-weights", sourceWeights.toString()));
            }
        } else {
            Path ck = checkpoint != null ? checkpoint : Paths.home().resolve("onnx-models/checkpoints/" + pack.id() + "-final.pt");
            if (!Files.isRegularFile(ck)) {
                return "skipped (no checkpoint " + ck + ")";
            }
            cmd.addAll(List.of("--checkpoint", ck.toString()));
        }
        cmd.addAll(List.of("--threads", String.valueOf(threads), "--iters", String.valueOf(iters), "--warmup", String.valueOf(warmup)));
        try {
            Process p = new ProcessBuilder(cmd).start();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            String stdout = readAll(p.getInputStream());
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                return "skipped (" + python + " failed: " + err.join().strip().lines().reduce((a, b) -> b).orElse("exit " + p.exitValue()) + ")";
            }
            JsonObject o = new Gson().fromJson(stdout, JsonObject.class);
            o.getAsJsonArray("rows").forEach(r -> out.put(r.getAsJsonObject().get("segment").getAsString() + "|"
                    + r.getAsJsonObject().get("batch").getAsInt(), r.getAsJsonObject().get("us").getAsDouble()));
            return "torch " + o.get("torch").getAsString() + " eager, " + threads + " thread(s), " + o.get("model").getAsString();
        } catch (IOException e) {
            return "skipped (cannot run " + python + ": " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "skipped (interrupted)";
        }
    }

    private static String readAll(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
