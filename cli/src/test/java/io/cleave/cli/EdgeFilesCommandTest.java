package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cleave.core.testing.TestImages;
import io.cleave.worker.WorkerConfig;
import io.cleave.worker.WorkerServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code cleave edge FILE...}, run in-process as the launcher runs it, on the committed photos and
 * the imported tiny pack: generous deadlines, nothing here depends on timing.
 */
class EdgeFilesCommandTest {
    record Run(int code, String out, String err) {}

    static Run edge(String... args) {
        List<String> all = new ArrayList<>(List.of("edge", "--warm-up-ms", "0", "--deadline-ms", "10000",
                "--pack", TestImages.resource("packs/tiny-deit").toString()));
        if (!List.of(args).contains("--k-max")) {
            all.addAll(List.of("--k-max", "3"));
        }
        all.addAll(List.of(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Cleave()).setExecutionExceptionHandler(new ErrorHandler())
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void json_printsOneObjectPerPhoto_withTopKLabelsAndWhereItWasAnswered() {
        String rocket = TestImages.resource("images/rocket.jpg").toString();
        String chelsea = TestImages.resource("images/chelsea.png").toString();
        Run r = edge("--json", "--top-k", "4", rocket, chelsea);
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\\R");
        assertThat(lines).hasSize(2);
        JsonObject o = JsonParser.parseString(lines[0]).getAsJsonObject();
        assertThat(o.get("file").getAsString()).isEqualTo(rocket);
        JsonArray top = o.getAsJsonArray("top");
        assertThat(top).hasSize(4);
        assertThat(top.get(0).getAsJsonObject().get("label").getAsString()).isEqualTo(o.get("label").getAsString());
        assertThat(top.get(0).getAsJsonObject().get("probability").getAsFloat())
                .isGreaterThanOrEqualTo(top.get(1).getAsJsonObject().get("probability").getAsFloat());
        assertThat(o.get("label").getAsString()).matches("class_[0-4]");
        assertThat(o.get("exit").getAsInt()).isEqualTo(1); // the final exit, after block 3
        assertThat(o.get("block").getAsInt()).isEqualTo(3);
        assertThat(o.get("where").getAsString()).isEqualTo("local");
        assertThat(o.get("latency_ms").getAsDouble()).isGreaterThan(o.get("decode_ms").getAsDouble()).isPositive();
        JsonObject in = o.getAsJsonObject("input");
        assertThat(in.get("format").getAsString()).isEqualTo("jpeg");
        assertThat(in.get("width").getAsInt()).isEqualTo(640);
        assertThat(in.get("height").getAsInt()).isEqualTo(427);
        assertThat(in.get("adapted").getAsBoolean()).isFalse();
        assertThat(o.get("trained").getAsBoolean()).isFalse();
        assertThat(o.get("bytes_sent").getAsLong()).isZero(); // no worker: nothing sent
        assertThat(o.get("split").isJsonNull()).isTrue();
        assertThat(o.get("encoding").getAsString()).isEqualTo("local");
        assertThat(JsonParser.parseString(lines[1]).getAsJsonObject().getAsJsonObject("input").get("format").getAsString()).isEqualTo("png");
    }

    @Test
    void text_showsTopKAndSaysThePackIsUntrained() {
        Run r = edge(TestImages.resource("images/rocket.jpg").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("rocket\\.jpg:  class_\\d \\d+\\.\\d%  class_\\d \\d+\\.\\d%  class_\\d \\d+\\.\\d%\\R")
                .contains("exit 1 at block 3, local, ", "input: 640x427 RGB jpeg, prepared per the pack: shorter side to 36 (bicubic)",
                        "untrained pack (random weights)", "  sent: nothing (local)\n".replace("\n", System.lineSeparator()));
    }

    /**
     * Offloaded to a real worker on loopback (the edge holds block 1 only, split 1, fp16, never an early
     * answer): the report gives the payload bytes sent (18 tokens x 32 x 2 bytes), the split and the encoding.
     */
    @Test
    void offloaded_reportsBytesSentSplitAndEncoding() throws Exception {
        Path pack = TestImages.resource("packs/tiny-deit");
        WorkerConfig wc = WorkerConfig.builder(pack).threads(1).shutdownGraceMillis(1000).build();
        try (WorkerServer worker = WorkerServer.start(wc)) {
            String rocket = TestImages.resource("images/rocket.jpg").toString();
            String[] args = {"--k-max", "1", "--worker", "127.0.0.1:" + worker.port(), "--plaintext", "--policy", "fixed", "--split", "1",
                    "--encoding", "fp16"};
            Run j = edge(concat(args, "--json", rocket));
            assertThat(j.code()).as(j.err()).isZero();
            JsonObject o = JsonParser.parseString(j.out().strip()).getAsJsonObject();
            assertThat(o.get("where").getAsString()).isEqualTo("cloud");
            assertThat(o.get("bytes_sent").getAsLong()).isEqualTo(18 * 32 * 2);
            assertThat(o.get("split").getAsInt()).isEqualTo(1);
            assertThat(o.get("encoding").getAsString()).isEqualTo("FP16");
            Run t = edge(concat(args, rocket));
            assertThat(t.code()).as(t.err()).isZero();
            assertThat(t.out()).contains(", cloud, ", "  sent: 1152 bytes at split 1 (tokens after block 1), FP16");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badFile_isOneLineNamingIt_andExit2_afterTheGoodOnesAreAnswered(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("holiday.jpg");
        Files.write(bad, TestImages.bytes("images/truncated.jpg"));
        Path missing = dir.resolve("missing.png");
        Run r = edge("--json", bad.toString(), TestImages.resource("images/rocket.jpg").toString(), missing.toString());
        assertThat(r.code()).isEqualTo(2);
        List<String> err = r.err().lines().toList();
        assertThat(err).hasSize(2);
        assertThat(err.get(0)).startsWith("cleave edge: " + bad + ": undecodable jpeg image (400 bytes)");
        assertThat(err.get(1)).isEqualTo("cleave edge: " + missing + ": no such file");
        assertThat(r.out().strip().split("\\R")).hasSize(1); // the good photo was still answered
    }
}
