package io.cleave.cli;

import com.google.gson.GsonBuilder;
import io.cleave.core.measure.Percentiles;
import io.cleave.core.pack.ModelPack;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.EdgeConfig;
import io.cleave.edge.EdgeServer;
import io.cleave.edge.image.PreparedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What an encoded image costs the edge before the model sees it, beside what the model then costs. */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = "Decode + resize + crop of JPEG/PNG files by the edge's image intake (what ClassifyRequest.encoded_image and "
                + "`cleave edge FILE` do before admission), beside the pack's whole local classification of the prepared pixels "
                + "(every block, final exit), sequentially on one thread. Default files: the committed photos.")
final class ImageBench implements Callable<Integer> {
    @Mixin
    PackOptions packOptions = new PackOptions();

    @Option(names = "--rounds", defaultValue = "${env:CLEAVE_BENCH_IMAGE_ROUNDS:-300}",
            description = "timed rounds per file (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_IMAGE_ROUNDS)") int rounds;
    @Option(names = "--warmup", defaultValue = "${env:CLEAVE_BENCH_IMAGE_WARMUP:-200}",
            description = "rounds before measuring (default: ${DEFAULT-VALUE}; env CLEAVE_BENCH_IMAGE_WARMUP)") int warmup;
    @Option(names = "--json", description = "print the result as JSON (default: off)") boolean json;

    @Parameters(arity = "0..*", paramLabel = "IMAGE") List<Path> files;

    @Override
    public Integer call() throws Exception {
        List<Path> photos = files != null && !files.isEmpty() ? files
                : List.of(Paths.home().resolve("core/src/test/resources/images/rocket.jpg"),
                        Paths.home().resolve("core/src/test/resources/images/chelsea.png"));
        int blocks = ModelPack.load(packOptions.pack()).blockCount();
        EdgeConfig cfg = EdgeConfig.builder(packOptions.pack()).kMax(blocks).threads(packOptions.threads).concurrency(1)
                .shutdownGraceMillis(1000).policy(PolicyRegistry.FIXED).warmUpMillis(0).build();
        List<Map<String, Object>> rows = new ArrayList<>();
        try (EdgeServer edge = EdgeServer.start(cfg, null, false)) {
            ModelPack pack = edge.agent().pack();
            for (Path f : photos) {
                byte[] bytes = Files.readAllBytes(f);
                long[] decode = new long[rounds];
                long[] model = new long[rounds];
                double first = Double.NaN;
                PreparedImage img = null;
                for (int i = -warmup; i < rounds; i++) {
                    img = edge.intake().prepare(bytes);
                    if (Double.isNaN(first)) {
                        first = img.decodeNanos() / 1e6;
                    }
                    long m = edge.agent().classify("bench-" + i, img.pixels(), TimeUnit.SECONDS.toNanos(5)).get(10, TimeUnit.SECONDS)
                            .answer().latencyNanos();
                    if (i >= 0) {
                        decode[i] = img.decodeNanos();
                        model[i] = m;
                    }
                }
                Arrays.sort(decode);
                Arrays.sort(model);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("file", f.getFileName().toString());
                row.put("image", img.width() + "x" + img.height() + (img.channels() == 1 ? " grayscale " : " RGB ") + img.format());
                row.put("bytes", bytes.length);
                row.put("firstDecodeMs", first);
                row.put("decodeP50Ms", Percentiles.of(decode, 50) / 1e6);
                row.put("decodeP90Ms", Percentiles.of(decode, 90) / 1e6);
                row.put("decodeMinMs", decode[0] / 1e6);
                row.put("decodeMaxMs", decode[rounds - 1] / 1e6);
                row.put("modelP50Ms", Percentiles.of(model, 50) / 1e6);
                row.put("modelP90Ms", Percentiles.of(model, 90) / 1e6);
                rows.add(row);
            }
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("pack", pack.id());
                out.put("trained", pack.trained());
                out.put("input", pack.manifest().input().shape());
                out.put("rounds", rounds);
                out.put("rows", rows);
                System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
                return 0;
            }
            Untrained.print(System.out, pack);
            System.out.printf("image intake vs model, pack %s (input %s), %d rounds after %d warm-up, sequential, %d ORT thread(s)%n",
                    pack.id(), pack.manifest().input().shape(), rounds, warmup, packOptions.threads);
            System.out.printf("%-12s %-20s %8s | %-27s | %-15s | %s%n", "file", "image", "bytes",
                    "decode+prepare ms p50/p90 (min-max)", "model ms p50/p90", "decode/model");
            for (Map<String, Object> r : rows) {
                System.out.printf("%-12s %-20s %8d | %5.2f / %5.2f (%.2f-%.2f) | %5.2f / %5.2f | %5.1fx   first decode in this JVM: %.1f ms%n",
                        r.get("file"), r.get("image"), r.get("bytes"), r.get("decodeP50Ms"), r.get("decodeP90Ms"), r.get("decodeMinMs"),
                        r.get("decodeMaxMs"), r.get("modelP50Ms"), r.get("modelP90Ms"),
                        (double) r.get("decodeP50Ms") / (double) r.get("modelP50Ms"), r.get("firstDecodeMs"));
            }
        }
        return 0;
    }
}
