package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.testing.TestPacks;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Every misuse a new user tried (issue 13): one line naming the option, the value and what is
 * allowed, exit code 2, nothing started, never a stack trace.
 */
class CliMisuseTest {
    record Run(int code, String out, String err) {}

    static {
        // the committed test set, for the runs that get as far as classifying (the surefire JVM runs in cli/)
        System.setProperty("cleave.home", System.getProperty("cleave.home", ".."));
    }

    static Run cleave(String... args) {
        StringWriter err = new StringWriter();
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            int code = Cleave.commandLine()
                    .setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true)).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err + stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    static String[] edge(String... args) {
        List<String> all = new ArrayList<>(List.of("edge", "--pack", TestPacks.packDir().toString(), "--warm-up-ms", "0"));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--worker localhost --images 1           | --worker must be host:port, got 'localhost'",
        "--worker 127.0.0.1:99999 --images 1     | --worker port must be 1..65535, got 99999",
        "--coordinator 127.0.0.1 --images 1      | --coordinator must be host:port, got '127.0.0.1'",
        "--k-max 12 --images 1                   | --k-max must be 0 to 8 (the pack's blocks), got 12",
        "--policy bogus --images 1               | unknown policy 'bogus'",
        "--split 9 --policy fixed --images 1     | --split 9 needs --worker: without a worker nothing is sent",
        "--encoding int8 --images 1              | --encoding int8 needs --worker",
        "--worker 127.0.0.1:1 --split 9 --policy fixed --images 1 | --split 9 must be within 0..k-max (4)",
        "--reduce-tokens prune:0.5 --images 1     | unknown token reduction 'prune': none, attention or merge",
        "--reduce-tokens merge:2 --images 1       | keep ratio 2.0 outside (0, 1]",
        "--reduce-tokens merge:0.5 --images 1     | --reduce-tokens merge:0.5 is a fixed plan's: it needs --policy fixed",
        "--reduce-tokens merge:0.5 --policy fixed --images 1 | --reduce-tokens merge:0.5 needs --worker",
        "--worker 127.0.0.1:1 --split 0 --reduce-tokens attention:0.5 --policy fixed --images 1 | --reduce-tokens attention:0.5 reduces the tokens after a block: it needs --split 1 or more, got 0",
        "--skip-blocks five --images 1            | blocks to skip 'five': none, or block numbers comma-separated",
        "--skip-blocks 3 --images 1               | --skip-blocks 3 is a fixed plan's: it needs --policy fixed",
        "--skip-blocks 12 --policy fixed --images 1 | --skip-blocks 12: the pack has blocks 1 to 8, not 12",
        "--images -3                             | --images must be at least 1, got -3",
        "--threshold -3 --images 1               | --threshold must be 0 to 1 (or above 1: never answer early), got -3",
        "--encoding bf16 --images 1              | expected fp32, fp16, int8, jpeg or raw, got 'bf16' (see cleave edge --help)",
        "--slowdown 0.5 --images 1               | --slowdown must be at least 1",
        "--concurrency 0 --images 1              | --concurrency must be at least 1, got 0",
        "--deadline-ms -5 --images 1             | --deadline-ms must be positive, got -5",
        "--serve --host 0.0.0.0                  | --host 0.0.0.0: the device API would serve anyone who reaches it; give it a token",
        "--tls-dir /nonexistent --images 1       | --tls-dir /nonexistent: TLS file not readable: /nonexistent/edge.crt",
        "--tls-name e2 --images 1                | --tls-name needs --tls-dir",
    })
    void edgeMisuse_isOneLine_exit2(String args, String message) {
        Run r = cleave(edge(args.trim().split("\\s+")));
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(message).doesNotContain("\tat ").hasLineCount(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "coordinator --heartbeat-ms -1             | --heartbeat-ms must be positive, got -1",
        "link --target 127.0.0.1:9 --rate-mbps -3  | --rate-mbps must be positive, got -3",
        "health 127.0.0.1                          | must be host:port, got '127.0.0.1'",
        "worker --max-batch 0                      | --max-batch must be at least 1, got 0",
        "worker --max-open-calls 0                 | --max-open-calls must be at least 1, got 0",
        "worker --stream-idle-ms -1                | --stream-idle-ms must be at least 1, got -1",
        "worker --coordinator nohost               | --coordinator must be host:port, got 'nohost'",
        "worker --device tpu                       | cleave worker: --device must be cpu, cuda, cuda:N (N a GPU index, 0 or more) or auto, got 'tpu'",
        "worker --device cuda:-1                   | cleave worker: --device must be cpu, cuda, cuda:N (N a GPU index, 0 or more) or auto, got 'cuda:-1'",
        "bench batching --device tpu               | cleave batching: --device must be cpu, cuda, cuda:N (N a GPU index, 0 or more) or auto, got 'tpu'",
        "edge --bogus                              | Unknown option: '--bogus' (see cleave edge --help)",
        "worker --tls-dir /nonexistent             | --tls-dir /nonexistent: TLS file not readable: /nonexistent/worker.crt",
        "certs --out target/certs-misuse --days 0  | --days must be at least 1, got 0",
        "certs --out target/certs-misuse --component gateway | --component 'gateway': no Cleave role 'gateway'",
        "coordinator                               | cleave coordinator talks to other Cleave components: give it --tls-dir DIR",
        "worker --plaintext --tls-dir target       | --plaintext and --tls-dir exclude each other",
        "worker --plaintext --host 0.0.0.0         | --plaintext is for loopback experiments: on --host 0.0.0.0 anyone",
        "coordinator --plaintext --host 10.0.0.7   | --plaintext is for loopback experiments: on --host 10.0.0.7 anyone",
        "worker --log-level loud                   | Invalid value for option '--log-level': 'loud' is not a level: use error, warn, info, debug or trace",
        "coordinator --log-format xml              | Invalid value for option '--log-format': 'xml' is not a log format: use text or json",
    })
    void otherMisuse_isOneLine_exit2(String args, String message) {
        Run r = cleave(args.trim().split("\\s+"));
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains(message).doesNotContain("\tat ").hasLineCount(1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--encoding fp16 --split 2 --worker 127.0.0.1:1 --policy fixed --images 2 --plaintext",
    })
    void lowerCaseEncodings_areAccepted(String args) {
        Run r = cleave(edge(args.trim().split("\\s+")));
        assertThat(r.code()).as(r.err()).isZero();
    }

    @org.junit.jupiter.api.Test
    void aDeadWorker_isWarnedAbout_andTheEdgeAnswersLocally() {
        Run r = cleave(edge("--worker", "127.0.0.1:1", "--images", "3", "--plaintext"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("1 of 1 workers unreachable after 2 s (127.0.0.1:1): answering from local exits");
    }
}
