package io.cleave.core.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus's own linter, {@code promtool check metrics} (Debian's {@code prometheus} package, which
 * {@code .ci/run} installs): a test without it is skipped, and says so.
 */
public final class Promtool {
    private Promtool() {}

    /** What promtool objects to in {@code exposition} (empty: nothing). */
    public static String problems(String exposition) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/promtool")),
                "promtool not installed (apt-get install prometheus; .ci/run does): metrics not linted");
        Process p = new ProcessBuilder("/usr/bin/promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "promtool did not finish in 30 s";
        }
        return p.exitValue() == 0 ? out : out.isEmpty() ? "promtool exit " + p.exitValue() : out;
    }
}
