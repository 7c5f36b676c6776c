package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.cleave.core.testing.TestImages;
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
                "--pack", TestImages.resource("packs/tiny-deit").toString(), "--k-max", "3"));
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
        assertThat(JsonParser.parseString(lines[1]).getAsJsonObject().getAsJsonObject("input").get("format").getAsString()).isEqualTo("png");
    }

    @Test
    void text_showsTopKAndSaysThePackIsUntrained() {
        Run r = edge(TestImages.resource("images/rocket.jpg").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).containsPattern("rocket\\.jpg:  class_\\d \\d+\\.\\d%  class_\\d \\d+\\.\\d%  class_\\d \\d+\\.\\d%\\R")
                .contains("exit 1 at block 3, local, ", "input: 640x427 RGB jpeg, prepared per the pack: shorter side to 36 (bicubic)",
                        "untrained pack (random weights)");
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
