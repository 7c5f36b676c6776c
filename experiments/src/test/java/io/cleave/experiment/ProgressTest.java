package io.cleave.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Progress off a terminal (what tests, pipes and container logs see) and the bar's line on one. */
class ProgressTest {
    @Test
    void offATerminalABarPrintsNothing() {
        // a test JVM's stdin and stdout are no terminal: no bar, and nothing on stderr or stdout
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        PrintStream oldOut = System.out;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try (Progress p = Progress.bar("images", 50)) {
            for (int i = 0; i < 50; i++) {
                p.step();
            }
            p.message("halfway").stepTo(50);
        } finally {
            System.setErr(oldErr);
            System.setOut(oldOut);
        }
        assertThat(err.size()).isZero();
        assertThat(out.size()).isZero();
    }

    @Test
    void offATerminalLoggedPrintsAPlainLinePerTenth() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Progress p = Progress.create("experiment", 200, new PrintStream(log, true, StandardCharsets.UTF_8), null)) {
            p.message("run 1/2");
            for (int i = 0; i < 100; i++) {
                p.step();
            }
            p.message("run 2/2").stepTo(190); // jumps four tenths: one line
            p.stepBy(10).stepBy(10); // past the end: nothing more
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertThat(text).doesNotContain("\r").endsWith(System.lineSeparator());
        List<String> lines = text.lines().toList();
        assertThat(lines).hasSize(7);
        assertThat(lines.get(0)).startsWith("experiment: 10% (20/200) after ").endsWith(" s, run 1/2");
        assertThat(lines.get(4)).startsWith("experiment: 50% (100/200)");
        assertThat(lines.get(5)).startsWith("experiment: 90% (190/200)").endsWith("run 2/2");
        assertThat(lines.get(6)).startsWith("experiment: 100% (200/200)");
    }

    @Test
    void withNoBarPrintIsPlainPrint() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        Progress.print(ps, "a table row\n");
        Progress.print(ps, "no newline");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("a table row\nno newline");
    }

    @Test
    void onATerminalTheBarIsRedrawnOnOneLineAndClearedAtTheEnd() {
        ByteArrayOutputStream screen = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream term = new PrintStream(screen, true, StandardCharsets.UTF_8);
        try (Progress p = Progress.create("images", 10, null, term)) {
            p.stepBy(4);
            Progress.print(new PrintStream(out, true, StandardCharsets.UTF_8), "a line above the bar\n");
            p.stepBy(6);
        }
        String s = screen.toString(StandardCharsets.UTF_8);
        assertThat(s).contains("\rimages ").contains("10/10").doesNotContain("\n");
        // the last thing on the screen is the blanked line, cursor at its start
        assertThat(s).matches("(?s).*\\r {20,}\\r");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("a line above the bar\n");
        // once closed, lines go straight out again
        ByteArrayOutputStream after = new ByteArrayOutputStream();
        Progress.print(new PrintStream(after, true, StandardCharsets.UTF_8), "x\n");
        assertThat(after.toString(StandardCharsets.UTF_8)).isEqualTo("x\n");
        assertThat(screen.toString(StandardCharsets.UTF_8)).isEqualTo(s);
    }
}
