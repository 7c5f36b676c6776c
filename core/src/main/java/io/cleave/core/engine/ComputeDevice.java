package io.cleave.core.engine;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device a worker's engine is asked to run on ({@code --device cpu|cuda[:N]|auto}).
 *
 * <ul>
 *   <li>{@code cpu}: ONNX Runtime's CPU execution provider, as always;
 *   <li>{@code cuda} or {@code cuda:N}: ONNX Runtime's CUDA execution provider on GPU N (0 by default); it needs ONNX
 *       Runtime's CUDA build ({@code com.microsoft.onnxruntime:onnxruntime_gpu}, Maven profile {@code gpu}) and the CUDA 12
 *       and cuDNN 9 libraries, and refuses to start without them;
 *   <li>{@code auto}: CUDA on GPU 0 where it loads, else the CPU, with one warning naming why.
 * </ul>
 *
 * @param kind which of the three
 * @param index the GPU of {@code cuda:N}; 0 for the others
 */
public record ComputeDevice(Kind kind, int index) {
    /** The three choices. */
    public enum Kind { CPU, CUDA, AUTO }

    /** The CPU: what every engine ran on before the flag existed, and the default. */
    public static final ComputeDevice CPU = new ComputeDevice(Kind.CPU, 0);
    /** CUDA on GPU 0 where it loads, else the CPU. */
    public static final ComputeDevice AUTO = new ComputeDevice(Kind.AUTO, 0);

    private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d{1,4}))?");

    public ComputeDevice {
        if (kind == null || index < 0 || (kind != Kind.CUDA && index != 0)) {
            throw new IllegalArgumentException("no such device: " + kind + " " + index);
        }
    }

    /** CUDA on GPU {@code index}. */
    public static ComputeDevice cuda(int index) {
        return new ComputeDevice(Kind.CUDA, index);
    }

    /**
     * A device as users type it: {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (any case).
     *
     * @throws IllegalArgumentException naming the value and what is allowed
     */
    public static ComputeDevice parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("auto")) {
            return AUTO;
        }
        Matcher m = CUDA.matcher(t);
        if (m.matches()) {
            return cuda(m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
        }
        throw new IllegalArgumentException("--device must be cpu, cuda, cuda:N (N a GPU index, 0 or more) or auto, got '" + text + "'");
    }

    /** As {@link #parse(String)} takes it: {@code cpu}, {@code cuda:N}, {@code auto}. */
    @Override
    public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case CUDA -> "cuda:" + index;
            case AUTO -> "auto";
        };
    }
}
