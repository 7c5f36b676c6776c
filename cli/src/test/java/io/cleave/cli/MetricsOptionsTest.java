package io.cleave.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.core.testing.TestPacks;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `--metrics-port` misuse: one line naming the option and what is allowed, exit 2, nothing started. */
class MetricsOptionsTest {
    record Run(int code, String err) {}

    static Run cleave(String... args) {
        StringWriter err = new StringWriter();
        int code = new CommandLine(new Cleave()).setExecutionExceptionHandler(new ErrorHandler())
                .setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, err.toString());
    }

    @Test
    void aPortOutOfRange_isRefused_byEveryServer() {
        for (String role : new String[] {"worker", "coordinator"}) {
            Run r = role.equals("worker") ? cleave(role, "--pack", TestPacks.packDir().toString(), "--metrics-port", "70000")
                    : cleave(role, "--metrics-port", "-5");
            assertThat(r.code()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).startsWith("cleave " + role + ": --metrics-port must be 0 to 65535, or -1 for none, got ")
                    .hasLineCount(1);
        }
    }

    @Test
    void onAnEdgeThatDoesNotServe_itWouldDoNothing_andIsRefused() {
        Run r = cleave("edge", "--pack", TestPacks.packDir().toString(), "--metrics-port", "0", "--images", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("cleave edge: --metrics-port serves the metrics of an edge that serves its API: it needs --serve"
                + System.lineSeparator());
    }

    @Test
    void aPortInUse_isOneLineSayingWhatToDo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Run r = cleave("coordinator", "--plaintext", "--metrics-port", Integer.toString(taken.getLocalPort()));
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).startsWith("cleave coordinator: metrics port " + taken.getLocalPort() + " on 127.0.0.1: ")
                    .contains("0 picks a free one, -1 serves none").hasLineCount(1);
        }
    }
}
