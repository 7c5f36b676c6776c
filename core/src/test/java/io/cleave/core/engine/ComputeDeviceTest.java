package io.cleave.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;
import io.cleave.core.testing.TestPacks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** {@code --device} values, and what the engine makes of them on ONNX Runtime's CPU build (this machine: no CUDA). */
class ComputeDeviceTest {
    @ParameterizedTest
    @CsvSource({"cpu, cpu", "CPU, cpu", "auto, auto", "cuda, cuda:0", "cuda:0, cuda:0", "cuda:3, cuda:3", "' cuda:1 ', cuda:1"})
    void parses(String text, String device) {
        assertThat(ComputeDevice.parse(text)).hasToString(device);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tpu", "cuda:-1", "cuda:", "cuda:x", "gpu", "", "cpu:0", "cuda:99999"})
    void refuses_naming_theValue(String text) {
        assertThatThrownBy(() -> ComputeDevice.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--device must be cpu, cuda, cuda:N (N a GPU index, 0 or more) or auto, got '" + text + "'");
    }

    @Test
    void cpu_runsOnTheCpuProvider() {
        try (SegmentEngine e = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults())) {
            assertThat(e.target()).isEqualTo(ExecutionTarget.CPU);
            assertThat(e.target()).hasToString("cpu (CPUExecutionProvider)");
        }
    }

    @Test
    void auto_onTheCpuBuild_fallsBackToTheCpu() {
        try (SegmentEngine e = SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withDevice(ComputeDevice.AUTO))) {
            assertThat(e.target()).isEqualTo(ExecutionTarget.CPU);
        }
    }

    @Test
    void cuda_onTheCpuBuild_namesWhatIsMissing() {
        assertThatThrownBy(() -> SegmentEngine.open(TestPacks.pack(), EngineOptions.defaults().withDevice(ComputeDevice.cuda(1))))
                .isInstanceOf(CleaveException.class)
                .satisfies(t -> assertThat(((CleaveException) t).code()).isEqualTo(ErrorCode.FAILED_PRECONDITION))
                .hasMessageStartingWith("--device cuda:1: CUDA execution provider unavailable (this is ONNX Runtime's CPU build, "
                        + "com.microsoft.onnxruntime:onnxruntime, whose providers are [CPUExecutionProvider]); ")
                .hasMessageContaining("onnxruntime_gpu, build with -Pgpu").hasMessageContaining("CUDA 12 and cuDNN 9");
    }
}
