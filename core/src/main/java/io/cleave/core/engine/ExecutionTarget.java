package io.cleave.core.engine;

import ai.onnxruntime.OrtProvider;

/**
 * Where an engine's sessions actually run, once {@code --device} is resolved: reported by the worker's
 * {@code Describe}, its start-up line and its {@code cleave_worker_info} metric.
 *
 * @param device {@code cpu} or {@code cuda:N}
 * @param provider ONNX Runtime's name of the execution provider the sessions were given: {@code CPUExecutionProvider}
 *     or {@code CUDAExecutionProvider} (ONNX Runtime still runs on its CPU provider any operator the CUDA one lacks)
 */
public record ExecutionTarget(String device, String provider) {
    public static final ExecutionTarget CPU = new ExecutionTarget("cpu", OrtProvider.CPU.getName());

    static ExecutionTarget cuda(int index) {
        return new ExecutionTarget("cuda:" + index, OrtProvider.CUDA.getName());
    }

    /** {@code cpu (CPUExecutionProvider)}. */
    @Override
    public String toString() {
        return device + " (" + provider + ")";
    }
}
