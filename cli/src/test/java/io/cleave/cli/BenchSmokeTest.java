package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cleave.core.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Each benchmark once, very briefly, on the committed imported pack (tiny-deit: 32x32 RGB, 3 blocks)
 * through {@code --pack}: it runs at a shape other than 28x28 and prints both sides and the ratio.
 * The numbers are not checked; a short run on a shared machine means nothing.
 */
@org.junit.jupiter.api.extension.ExtendWith(ProjectHome.class)
class BenchSmokeTest {
    static final String TINY = TestImages.resource("packs/tiny-deit").toString();

    record Run(int code, String out, String err) {}



    /** Benchmarks print to System.out; errors go to the command line's err. */
    static synchronized Run cleave(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = new CommandLine(new Cleave()).setExecutionExceptionHandler(new ErrorHandler()).setErr(new PrintWriter(err))
                    .execute(args);
        } finally {
            System.setOut(stdout);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
    }

    static JsonObject json(Run r) {
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        return JsonParser.parseString(r.out()).getAsJsonObject();
    }

    @Test
    void reduce_measuresEveryRecordedReductionBesideEveryTokenCrossing_andRefusesAPackThatIsNotReducible() {
        Run r = cleave("bench", "reduce", "--splits", "6", "--repeats", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("(?m)^6 +none +50 +6400 +3400 +1\\.00x +- +[0-9.]+ \\([0-9.]+-[0-9.]+\\) +1\\.00x +88\\.88%$");
        for (String m : List.of("attention", "merge")) { // keep 0.25: 14 tokens, 1,792 fp16 bytes; its recorded final-exit accuracy
            assertThat(r.out()).containsPattern("(?m)^6 +" + m + ":0\\.25 +14 +1792 +952 +0\\.28x .* [0-9.]+x +8[0-9]\\.[0-9]{2}%$");
        }
        Run fixed = cleave("bench", "reduce", "--pack", TINY);
        assertThat(fixed.code()).isEqualTo(2);
        assertThat(fixed.err()).contains("is not reducible");
    }

    @Test
    void planner_timesEachSearch_besideTheOneWithNeitherKnob() {
        Run r = cleave("bench", "planner", "--rounds", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("(?m)^neither +120 +[0-9.]+ \\([0-9.]+-[0-9.]+\\) +1\\.00x ")
                .containsPattern("(?m)^cleave +1008 +[0-9.]+ \\([0-9.]+-[0-9.]+\\) +[0-9.]+x ");
    }

    @Test
    void engine_timesEveryBlockAtBatch1And8_inJavaAndInPytorchRebuiltFromTheManifest() {
        assumeTrue(torchAvailable(), "needs /usr/bin/python3 with PyTorch");
        Run r = cleave("bench", "engine", "--pack", TINY, "--iters", "3", "--warmup", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().findFirst()).hasValue("pack tiny-deit 0.1.0 (untrained: random weights, timing and bytes only)");
        assertThat(r.out()).contains("pack tiny-deit (3 blocks, 18x32 tokens)")
                .contains("rebuilt from the manifest (random-init, seed 0); matches the pack's golden tensors");
        for (String segment : List.of("stem", "block 1", "block 2", "block 3", "exit 0", "exit 1")) {
            for (int batch : new int[] {1, 8}) { // java, pytorch, java/pytorch
                assertThat(r.out()).containsPattern("(?m)^" + segment + " +" + batch + " +[0-9.]+ +[0-9.]+ +[0-9.]+x$");
            }
        }
        assertThat(r.out()).containsPattern("blocks 1-3 at batch 1 \\(sum\\): java [0-9.]+ us, pytorch [0-9.]+ us, ratio [0-9.]+x")
                .containsPattern("blocks 1-3 at batch 8 \\(sum\\): java [0-9.]+ us, pytorch [0-9.]+ us, ratio [0-9.]+x");
    }

    @Test
    void stream_takesThePacksTokenShape() {
        JsonObject o = json(cleave("bench", "stream", "--pack", TINY, "--warmup-s", "0", "--rounds", "1", "--requests", "5",
                "--inflight", "2", "--json"));
        assertThat(o.get("tensorBytes").getAsInt()).isEqualTo(18 * 32 * 4);
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(o.get("grpcMBps").getAsDouble()).isPositive();
        assertThat(o.get("rawTcpMBps").getAsDouble()).isPositive();
        assertThat(o.get("ratio").getAsDouble()).isPositive();
    }

    @Test
    void stream_withTls_measuresAMutualTlsWorkerBesidePlaintext() {
        JsonObject o = json(cleave("bench", "stream", "--pack", TINY, "--tls", "--warmup-s", "0", "--rounds", "1", "--requests", "5",
                "--inflight", "2", "--json"));
        assertThat(o.get("grpcTlsMBps").getAsDouble()).isPositive();
        assertThat(o.get("tlsOverPlaintext").getAsDouble()).isPositive();
    }

    @Test
    void batching_sendsThePacksInputAndTokenShapes_atTheSplitsItHas() {
        JsonObject o = json(cleave("bench", "batching", "--pack", TINY, "--seconds", "0.5", "--warmup-s", "0.2", "--streams", "4",
                "--json"));
        assertThat(o.get("splits").toString()).isEqualTo("[0,2]"); // 3 blocks: no split 4
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(o.get("batchedRps").getAsDouble()).isPositive();
        assertThat(o.get("batch1Rps").getAsDouble()).isPositive();
        assertThat(o.get("ratio").getAsDouble()).isPositive();
    }

    @Test
    void overhead_splitsThePacksRequestsAtBlock2() {
        JsonObject o = json(cleave("bench", "overhead", "--pack", TINY, "--warmup", "5", "--requests", "10", "--tls", "--json"));
        assertThat(o.get("pack").getAsString()).isEqualTo("tiny-deit");
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(o.get("e2eP50Us").getAsDouble()).isGreaterThan(o.get("computeP50Us").getAsDouble()).isPositive();
        assertThat(o.has("overheadP99Us")).isTrue();
        // the same requests over mutual TLS, answered from the cloud (the bench fails otherwise)
        assertThat(o.get("tlsE2eP50Us").getAsDouble()).isGreaterThan(o.get("tlsComputeP50Us").getAsDouble()).isPositive();
        assertThat(o.has("tlsOverheadP99Us")).isTrue();
    }

    @Test
    void footprint_startsARealEdgeProcessPerPack_andReadsItsResidentMemory() {
        JsonObject o = json(cleave("bench", "footprint", "--pack", TINY, "--requests", "2", "--json"));
        JsonArray rows = o.getAsJsonArray("rows");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).getAsJsonObject().get("pack").getAsString()).isEqualTo("fmnist-vit8");
        assertThat(rows.get(1).getAsJsonObject().get("pack").getAsString()).isEqualTo("tiny-deit");
        assertThat(rows.get(0).getAsJsonObject().get("trained").getAsBoolean()).isTrue();
        assertThat(rows.get(1).getAsJsonObject().get("trained").getAsBoolean()).isFalse();
        rows.forEach(e -> {
            JsonObject r = e.getAsJsonObject();
            assertThat(r.get("firstAnswerMs").getAsDouble()).isGreaterThan(r.get("listeningMs").getAsDouble());
            assertThat(r.get("rssKiB").getAsLong()).isGreaterThan(10_000).isLessThanOrEqualTo(r.get("hwmKiB").getAsLong());
        });
    }

    @Test
    void soak_accountsForEveryRequest_acrossAWorkerRestart() {
        JsonObject o = json(cleave("bench", "soak", "--pack", TINY, "--seconds", "8", "--concurrency", "2", "--warm-up-ms", "0",
                "--cancel-share", "0.2", "--json"));
        JsonObject out = o.getAsJsonObject("outcomes");
        long ended = 0;
        for (String r : List.of("on_time", "late", "refused", "refused_late", "failed", "cancelled", "lost")) {
            ended += out.get(r).getAsLong();
        }
        assertThat(out.get("sent").getAsLong()).isPositive().isEqualTo(ended);
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(out.get("lost").getAsLong()).isZero();
        assertThat(out.get("failed").getAsLong()).isZero();
        assertThat(out.get("cancelAttempts").getAsLong()).isGreaterThanOrEqualTo(out.get("cancelled").getAsLong()).isPositive();
        assertThat(o.get("pass").getAsBoolean()).isTrue();
        // tiny-deit has 3 blocks: the edge holds all 3 and offloads after none, one or two of them
        assertThat(o.get("plans").toString()).isEqualTo("[\"split 0 (raw input)\",\"split 1 (fp16)\",\"split 2 (fp16)\",\"local only\"]");
        o.getAsJsonArray("perPlan").forEach(p -> assertThat(p.getAsJsonObject().get("answered").getAsLong()).isPositive());
        JsonObject restart = o.getAsJsonObject("restart");
        assertThat(restart.get("killedAtSeconds").getAsDouble()).isGreaterThanOrEqualTo(4.0).isLessThan(8.0); // halfway
        assertThat(restart.get("listeningAfterSeconds").getAsDouble()).isPositive();
        assertThat(o.getAsJsonArray("timeline")).isNotEmpty();
        JsonArray memory = o.getAsJsonArray("memory");
        assertThat(memory.get(2).getAsJsonObject().get("what").getAsString()).isEqualTo("edge RSS (this JVM)");
        assertThat(memory.get(2).getAsJsonObject().get("samples").getAsInt()).isPositive();
        assertThat(memory.get(2).getAsJsonObject().get("endMiB").getAsDouble()).isGreaterThan(10);
    }

    @Test
    void soak_badOption_isOneLineNamingIt() {
        Run r = cleave("bench", "soak", "--cancel-share", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("cleave soak: --cancel-share must be at least 0 and below 1, got 1.0");
    }

    @Test
    void bytes_sizesEverySplitAndEncoding_jpegIncluded_forBothPacks() {
        JsonObject o = json(cleave("bench", "bytes", "--pack", TINY, "--json"));
        JsonArray packs = o.getAsJsonArray("packs");
        assertThat(packs).hasSize(2);
        JsonArray tiny = packs.get(1).getAsJsonObject().getAsJsonArray("rows");
        List<String> what = new ArrayList<>();
        tiny.forEach(e -> what.add(e.getAsJsonObject().get("what").getAsString()));
        assertThat(what).containsExactly("input, raw 8-bit", "input, JPEG q75", "input, JPEG q90", "tokens, fp32", "tokens, fp16",
                "tokens, int8");
        double[] payload = tiny.asList().stream().mapToDouble(e -> e.getAsJsonObject().get("payloadBytes").getAsDouble()).toArray();
        assertThat(payload[0]).isEqualTo(3 * 32 * 32);
        assertThat(payload[3]).isEqualTo(18 * 32 * 4);
        assertThat(payload[4]).isEqualTo(18 * 32 * 2);
        assertThat(payload[5]).isEqualTo(18 * 32 + 18 * 4); // a float scale per token
        assertThat(payload[1]).isPositive().isLessThan(payload[2]); // quality 75 is smaller than 90
        tiny.forEach(e -> assertThat(e.getAsJsonObject().get("wireBytes").getAsDouble())
                .isGreaterThan(e.getAsJsonObject().get("payloadBytes").getAsDouble()));
        assertThat(tiny.get(3).getAsJsonObject().get("splits").getAsString()).isEqualTo("1..2");
    }

    @Test
    void pack_withoutPython_failsWithOneLineNamingIt(@TempDir Path dir) {
        Run r = cleave("pack", "deit-s", "--python", dir.resolve("no-python").toString(), "--out", dir.resolve("p").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).startsWith("cleave pack: making packs needs " + dir.resolve("no-python") + " with PyTorch");
    }

    @Test
    void pack_unknownName_isRefusedWithTheKnownOnes() {
        Run r = cleave("pack", "vit-huge");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no pack recipe named 'vit-huge'").contains("deit-s").contains("deit-tiny");
    }

    static boolean torchAvailable() {
        try {
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import torch").start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
