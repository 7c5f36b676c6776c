package io.cleave.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.cleave.core.engine.EngineOptions;
import io.cleave.core.engine.SegmentEngine;
import io.cleave.core.engine.Tensor;
import io.cleave.core.pack.ModelPack;
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

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(names = "--iters", defaultValue = "300")
    int iters;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python with PyTorch (default: ${DEFAULT-VALUE})")
    String python;

    @Option(names = "--checkpoint", description = "PyTorch checkpoint (default: onnx-models/checkpoints/<model>-final.pt)")
    Path checkpoint;

    @Override
    public Integer call() throws Exception {
        ModelPack pack = ModelPack.load(packOptions.pack());
        int threads = packOptions.threads;
        int[] batches = {1, 8};
        Map<String, Double> java = new LinkedHashMap<>();
        try (SegmentEngine engine = SegmentEngine.open(pack, EngineOptions.defaults().withThreads(threads))) {
            int t = pack.manifest().tokens().count();
            int d = pack.manifest().tokens().dim();
            List<Integer> in = pack.manifest().input().shape();
            for (int b : batches) {
                Tensor img = new Tensor(new float[b * pack.manifest().input().size()], b, in.get(0), in.get(1), in.get(2));
                Tensor tok = engine.stem(img);
                java.put("stem|" + b, medianUs(x -> engine.stem(x), img));
                for (int k = 1; k <= pack.blockCount(); k++) {
                    int kk = k;
                    java.put("block " + k + "|" + b, medianUs(x -> engine.blocks(x, kk - 1, kk), tok));
                }
                for (int e = 0; e < pack.exitCount(); e++) {
                    int ee = e;
                    java.put("exit " + e + "|" + b, medianUs(x -> engine.exit(ee, x), tok));
                }
                if (tok.sampleSize() != t * d) {
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
            out.put("threads", threads);
            out.put("pytorch", torchNote);
            out.put("rows", rows);
            System.out.println(new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(out));
            return 0;
        }
        System.out.printf("engine latency, median us, %d intra-op thread(s); PyTorch: %s%n", threads, torchNote);
        System.out.printf("%-10s %5s %12s %12s %8s%n", "segment", "batch", "java", "pytorch", "java/pt");
        double sumJ = 0;
        double sumP = 0;
        for (Map<String, Object> r : rows) {
            Double p = (Double) r.get("pytorchUs");
            System.out.printf("%-10s %5d %12.1f %12s %8s%n", r.get("segment"), (int) r.get("batch"), (double) r.get("javaUs"),
                    p == null ? "-" : String.format("%.1f", p), p == null ? "-" : String.format("%.2fx", (double) r.get("ratio")));
            if (p != null && (int) r.get("batch") == 1) {
                sumJ += (double) r.get("javaUs");
                sumP += p;
            }
        }
        if (sumP > 0) {
            System.out.printf("whole model at batch 1 (sum of segments): java %.1f us, pytorch %.1f us, ratio %.2fx%n", sumJ, sumP, sumJ / sumP);
        }
        return 0;
    }

    private double medianUs(UnaryOperator<Tensor> f, Tensor x) {
        for (int i = 0; i < 50; i++) {
            f.apply(x);
        }
        long[] t = new long[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            f.apply(x);
            t[i] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        return t[iters / 2] / 1e3;
    }

    private String runTorch(ModelPack pack, int threads, Map<String, Double> out) {
        Path ck = checkpoint != null ? checkpoint : Paths.home().resolve("onnx-models/checkpoints/" + pack.id() + "-final.pt");
        Path script = Paths.home().resolve("onnx-models/bench_torch.py");
        if (!Files.isRegularFile(ck)) {
            return "skipped (no checkpoint " + ck + ")";
        }
        try {
            Process p = new ProcessBuilder(python, script.toString(), "--checkpoint", ck.toString(), "--threads",
                    String.valueOf(threads), "--iters", String.valueOf(iters)).redirectErrorStream(false).start();
            byte[] stdout = p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                return "skipped (" + python + " failed: " + err.lines().reduce((a, b) -> b).orElse("exit " + p.exitValue()) + ")";
            }
            JsonObject o = new Gson().fromJson(new String(stdout, StandardCharsets.UTF_8), JsonObject.class);
            o.getAsJsonArray("rows").forEach(r -> out.put(r.getAsJsonObject().get("segment").getAsString() + "|"
                    + r.getAsJsonObject().get("batch").getAsInt(), r.getAsJsonObject().get("us").getAsDouble()));
            return "torch " + o.get("torch").getAsString() + " eager, " + threads + " thread(s)";
        } catch (IOException e) {
            return "skipped (cannot run " + python + ": " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "skipped (interrupted)";
        }
    }
}
