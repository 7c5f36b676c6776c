package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a server's stderr says at {@code info}, as text and as JSON lines, from real child processes. */
class LogFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void jsonFormat_everyLogLineIsOneObject_andStdoutKeepsTheStartUpLines() throws Exception {
        List<JsonNode> events = new ArrayList<>();
        try (CleaveProcess worker = CleaveProcess.start("--log-format", "json", "--log-level", "info")) {
            String log = awaitLine(worker, "worker serving");
            for (String line : log.split("\n")) {
                if (line.startsWith("cleave worker ")) {
                    continue; // stdout: the lines scripts read (listening on, metrics on)
                }
                JsonNode event = JSON.readTree(line); // throws on anything that is not one JSON object
                assertThat(event.isObject()).as(line).isTrue();
                assertThat(event.path("timestamp").isNumber()).as(line).isTrue();
                assertThat(event.path("level").asText()).as(line).isIn("ERROR", "WARN", "INFO");
                assertThat(event.path("loggerName").asText()).as(line).startsWith("io.cleave.");
                events.add(event);
            }
        }
        assertThat(events).anySatisfy(e -> {
            assertThat(e.get("level").asText()).isEqualTo("INFO");
            assertThat(e.get("formattedMessage").asText()).startsWith("worker serving fmnist-vit8").contains("127.0.0.1");
        });
        assertThat(events).anySatisfy(e -> {
            assertThat(e.get("level").asText()).isEqualTo("WARN");
            assertThat(e.get("formattedMessage").asText()).contains("WITHOUT TLS");
        });
    }

    @Test
    void infoLevel_hidesOnnxRuntimesStartUpNoise() throws Exception {
        // at info, DJL's OrtModel logs "Onnx extension not found in classpath." once per segment it loads (13 lines)
        try (CleaveProcess edge = CleaveProcess.edge("--log-level", "info")) {
            String log = edge.log();
            assertThat(log).contains("cleave edge listening on");
            assertThat(log).doesNotContain("extension not found").doesNotContain("ai.djl");
        }
        try (CleaveProcess worker = CleaveProcess.start("--log-level", "info")) {
            String log = awaitLine(worker, "worker serving");
            assertThat(log).containsPattern("(?m)^\\S+ INFO  \\[main\\] io\\.cleave\\.worker\\.WorkerServer - worker serving fmnist-vit8");
            assertThat(log).doesNotContain("extension not found").doesNotContain("ai.djl");
        }
    }

    /** The child's output once it holds {@code text}: stderr and stdout are read by one thread, in no fixed order. */
    private static String awaitLine(CleaveProcess process, String text) throws InterruptedException {
        long until = System.nanoTime() + 10_000_000_000L;
        while (!process.log().contains(text) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        return process.log();
    }
}
