package io.cleave.edge;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A named, emulated device class: how many blocks the device holds and how much slower its compute
 * is than this machine's. Each slowdown is calibrated from a published measurement of a standard
 * ViT (DeiT-Tiny, 224x224, batch 1) on the real device: the same architecture is run here through
 * this project's engine ({@code ./cleave bench device}) and the slowdown is the published time over
 * the time here. Emulation assumes the device is that many times slower on every segment of every
 * model: an approximation (small graphs are overhead-bound on any CPU), and reports say "emulated".
 *
 * @param name what the class is called on command lines and in reports
 * @param kMax blocks of the default pack the device holds: a deployment choice (how much of the model the operator
 *     puts on the device), not a measurement
 * @param slowdown local compute takes this many times as long as on this machine (1: as is)
 * @param publishedMs the published DeiT-Tiny latency the slowdown comes from (0: none, this machine)
 * @param hereMs DeiT-Tiny through this project's engine here, with {@code hereThreads} threads, when calibrated
 * @param hereThreads ONNX Runtime threads for {@code hereMs}: as many cores as the published run used, at most this machine's 2
 * @param source where the published number comes from, precisely enough to check it
 */
public record DeviceClass(String name, int kMax, double slowdown, double publishedMs, double hereMs, int hereThreads, String source) {

    /**
     * DeiT-Tiny (random weights, timing only) at batch 1 through the Java engine on this project's
     * 2-core machine: the median of four {@code ./cleave bench device} runs' medians (1 thread: 26.0,
     * 30.4, 32.4, 32.7 ms; 2 threads: 28.3, 28.7, 29.8, 33.2 ms; 2026-11-28). The second core adds
     * little here.
     */
    static final double HERE_1_THREAD_MS = 31.4;
    static final double HERE_2_THREADS_MS = 29.3;

    private static final Map<String, DeviceClass> CLASSES = new LinkedHashMap<>();

    static {
        add(new DeviceClass("this-machine", 8, 1, 0, 0, 0, "no emulation: this machine's own compute"));
        add(calibrated("pi4", 2, 139.1, 2,
                "Raspberry Pi 4B, ONNX Runtime, DeiT-Tiny 224: 139.1 ms (Shim et al., SNP: Structured Neuron-level Pruning, "
                        + "ECCV 2024, arXiv:2404.11630; benchmark table in github.com/Nota-NetsPresso/SNP README)"));
        add(calibrated("pi5", 4, 139.1 / 3.96, 2,
                "derived: the Pi 4B time above over 3.96, the Pi 4B/Pi 5 ratio of the same ViT-Tiny in one TFLite INT8 pipeline "
                        + "(197.1 ms vs 49.8 ms, netspresso-trainer docs/benchmarks/device_matrix/tflite.md); no direct Pi 5 "
                        + "DeiT-Tiny ONNX Runtime number was found"));
        add(calibrated("phone", 3, 108.6, 1,
                "Pixel 4 (Snapdragon 855), one big core, TFLite fp32, DeiT-Tiny distilled 224: 108.6 ms (Li, Paolieri, "
                        + "Golubchik, A Benchmark for ML Inference Latency on Mobile Devices, EdgeSys 2024; data in "
                        + "github.com/qed-usc/mobile-ml-benchmark, dataset/tflite_transformer_e2e.csv)"));
    }

    private static DeviceClass calibrated(String name, int kMax, double publishedMs, int threads, String source) {
        double here = threads == 1 ? HERE_1_THREAD_MS : HERE_2_THREADS_MS;
        return new DeviceClass(name, kMax, Math.round(publishedMs / here * 10) / 10.0, publishedMs, here, threads, source);
    }

    private static void add(DeviceClass c) {
        CLASSES.put(c.name, c);
    }

    /** Every named class, in a fixed order. */
    public static List<DeviceClass> all() {
        return List.copyOf(CLASSES.values());
    }

    /** The class of that name; an error naming the known classes otherwise. */
    public static DeviceClass named(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException("unknown device class '" + name + "'; known: "
                + String.join(", ", CLASSES.keySet())));
    }

    /** The class of that name, if there is one. */
    public static java.util.Optional<DeviceClass> find(String name) {
        return java.util.Optional.ofNullable(name == null ? null : CLASSES.get(name.trim().toLowerCase(Locale.ROOT)));
    }

    /** How an unnamed device is labelled: k&lt;k_max&gt;, and -x&lt;slowdown&gt; when slowed. */
    public static String unnamedLabel(int kMax, double slowdown) {
        String s = slowdown == Math.rint(slowdown) ? String.valueOf((long) slowdown) : String.valueOf(slowdown);
        return slowdown > 1 ? "k" + kMax + "-x" + s : "k" + kMax;
    }

    /** How every report labels it. */
    public String describe() {
        if (slowdown == 1) {
            return name + ": this machine's CPU as is, holds k_max=" + kMax + " blocks";
        }
        return String.format(Locale.ROOT, "%s: emulated (not a real device), holds k_max=%d blocks, compute slowed %.1fx "
                + "(published DeiT-Tiny %.1f ms there / %.1f ms here on %d thread(s))", name, kMax, slowdown, publishedMs, hereMs, hereThreads);
    }
}
