package io.cleave.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cleave.proto.v1.DescribeRequest;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.cleave.proto.v1.WorkerDescription;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code cleave worker --device} on this CPU-only machine (ONNX Runtime's CPU build, no CUDA): {@code auto} falls back
 * to the CPU with one warning, {@code cuda} refuses to start with one line naming what is missing, {@code cpu} is as
 * before. Real child processes on the committed pack; what the worker runs on is read back from Describe, the start-up
 * line and the metrics. The CUDA path itself is not run anywhere here.
 */
class WorkerDeviceTest {
    static final String FALLBACK = "--device auto: CUDA execution provider unavailable (";

    @Test
    void auto_fallsBackToTheCpu_withOneWarningSayingWhy() throws Exception {
        try (CleaveProcess worker = CleaveProcess.start("--device", "auto")) {
            String log = worker.log();
            assertThat(log).contains("engine on cpu (CPUExecutionProvider)");
            String[] warnings = Arrays.stream(log.split("\n")).filter(l -> l.contains("CUDA")).toArray(String[]::new);
            assertThat(warnings).as(log).hasSize(1);
            assertThat(warnings[0]).contains(" WARN ").contains(FALLBACK)
                    .contains("this is ONNX Runtime's CPU build, com.microsoft.onnxruntime:onnxruntime")
                    .endsWith("): running on CPU");
            assertDescribes(worker, "cpu", "CPUExecutionProvider");
            assertThat(MetricsEndpointsTest.sum(MetricsEndpointsTest.scrape(worker), "cleave_worker_info",
                    Map.of("device", "cpu", "provider", "CPUExecutionProvider"))).isEqualTo(1);
        }
    }

    @Test
    void cuda_withoutCuda_isOneLineNamingWhatIsMissing_exit2() throws Exception {
        CleaveProcess.Exited r = CleaveProcess.exited("worker", "--device", "cuda");
        assertThat(r.code()).as(r.output()).isEqualTo(2);
        // besides --plaintext's warning: one line, nothing started
        String errors = r.output().lines().filter(l -> !l.contains("WITHOUT TLS")).collect(Collectors.joining("\n"));
        assertThat(errors).hasLineCount(1).doesNotContain("\tat ").doesNotContain("listening on")
                .startsWith("cleave worker: --device cuda:0: CUDA execution provider unavailable (this is ONNX Runtime's CPU build")
                .contains("build with -Pgpu").contains("CUDA 12").contains("cuDNN 9");
    }

    @Test
    void cpu_isTheDefault_andUnchanged() throws Exception {
        for (String[] args : new String[][] {{}, {"--device", "cpu"}}) {
            try (CleaveProcess worker = CleaveProcess.start(args)) {
                String log = worker.log();
                assertThat(log).as(String.join(" ", args)).contains("engine on cpu (CPUExecutionProvider)").doesNotContain("CUDA");
                assertDescribes(worker, "cpu", "CPUExecutionProvider");
            }
        }
    }

    private static void assertDescribes(CleaveProcess worker, String device, String provider) throws InterruptedException {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", worker.port()).usePlaintext().build();
        try {
            WorkerDescription d = InferenceWorkerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .describe(DescribeRequest.getDefaultInstance());
            assertThat(d.getDevice()).isEqualTo(device);
            assertThat(d.getExecutionProvider()).isEqualTo(provider);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
