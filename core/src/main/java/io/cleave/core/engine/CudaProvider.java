package io.cleave.core.engine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import io.cleave.core.error.CleaveException;
import io.cleave.core.error.ErrorCode;

/**
 * ONNX Runtime's CUDA execution provider, asked for through ONNX Runtime's own API: whether this build has it
 * ({@link OrtEnvironment#getAvailableProviders()}), and whether it loads ({@code SessionOptions.addCUDA}, which loads
 * {@code libonnxruntime_providers_cuda.so} and with it CUDA 12's and cuDNN 9's libraries). Nothing is guessed from
 * file names or environment variables.
 */
final class CudaProvider {
    /** What a CUDA worker needs, for the error of {@code --device cuda} where it cannot load. */
    static final String NEEDS = "a CUDA worker needs ONNX Runtime's CUDA build (com.microsoft.onnxruntime:onnxruntime_gpu, "
            + "build with -Pgpu) and the CUDA 12 and cuDNN 9 libraries (libcudart.so.12, libcublas.so.12, libcudnn.so.9) "
            + "on the library path";

    private CudaProvider() {}

    /** Why CUDA cannot be used on GPU {@code index}, or null where its provider loads (the GPU itself is checked when a session starts). */
    static String unavailable(int index) {
        String missing = notInBuild();
        if (missing != null) {
            return missing;
        }
        try (OrtSession.SessionOptions probe = new OrtSession.SessionOptions()) {
            probe.addCUDA(index);
            return null;
        } catch (OrtException e) {
            return loadFailure(e);
        }
    }

    /** Appends the CUDA provider for GPU {@code index} to {@code options}, or says in one line what is missing. */
    static void append(OrtSession.SessionOptions options, int index) {
        String missing = notInBuild();
        if (missing == null) {
            try {
                options.addCUDA(index);
                return;
            } catch (OrtException e) {
                missing = loadFailure(e);
            }
        }
        throw new CleaveException(ErrorCode.FAILED_PRECONDITION,
                "--device cuda:" + index + ": CUDA execution provider unavailable (" + missing + "); " + NEEDS);
    }

    private static String notInBuild() {
        if (OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            return null;
        }
        return "this is ONNX Runtime's CPU build, com.microsoft.onnxruntime:onnxruntime, whose providers are "
                + OrtEnvironment.getAvailableProviders().stream().map(OrtProvider::getName).toList();
    }

    private static String loadFailure(OrtException e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().replaceAll("\\s*\\R\\s*", " ");
        return "ONNX Runtime's CUDA provider did not load: " + why;
    }
}
