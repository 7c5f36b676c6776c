package io.cleave.edge;

import io.cleave.core.codec.JpegCodec;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.image.ImageLimits;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything an edge agent process needs, immutable.
 *
 * @param kMax blocks the device holds (its capacity)
 * @param workers cloud worker targets (host:port); empty: edge-only
 * @param plan the fixed plan used until a planner is plugged in
 * @param concurrency compute threads of the local pipeline (at most the processors; requests beyond them queue by urgency)
 * @param policy "fixed" follows {@code plan}; otherwise a planner policy run embedded on live measurements:
 *     cleave, edge-only, cloud-only, neurosurgeon, edgent
 * @param coordinator coordinator host:port to follow for worker assignments, or null
 * @param via HTTP CONNECT proxy (host:port) every worker channel goes through, e.g. a {@code cleave link}; null: direct
 * @param slowdown emulated device class: each local segment takes this many times its measured time (1: this machine as is)
 * @param warmUpMillis at most this long warming the whole path (cloud included) until the JIT settles before taking
 *     traffic; 0: only local passes (e.g. where warm-up traffic would disturb an emulated link)
 * @param imageLimits the largest encoded image accepted, in bytes and in pixels
 * @param jpegQuality quality (1-100) of the JPEG sent by plans that send the input as JPEG
 */
public record EdgeConfig(Path pack, int kMax, int threads, List<String> workers, Plan plan, int concurrency, String host,
        int port, long shutdownGraceMillis, String policy, String coordinator, String via, double slowdown, long warmUpMillis,
        String device, ImageLimits imageLimits, int jpegQuality) {
    /** Default warm-up bound: a fresh JVM on 2 cores settles in a few seconds. */
    public static final long DEFAULT_WARM_UP_MILLIS = 10_000;

    public EdgeConfig(Path pack, int kMax, int threads, List<String> workers, Plan plan, int concurrency, String host,
            int port, long shutdownGraceMillis, String policy, String coordinator, String via, double slowdown) {
        this(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator, via, slowdown,
                DEFAULT_WARM_UP_MILLIS, null, ImageLimits.DEFAULT, JpegCodec.DEFAULT_QUALITY);
    }

    /** The same configuration with another warm-up bound. */
    public EdgeConfig withWarmUpMillis(long millis) {
        return new EdgeConfig(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator,
                via, slowdown, millis, device, imageLimits, jpegQuality);
    }

    /** The same configuration, naming its device (a {@link DeviceClass} whose k_max and slowdown it already has) in every answer. */
    public EdgeConfig withDevice(String name) {
        return new EdgeConfig(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator,
                via, slowdown, warmUpMillis, name, imageLimits, jpegQuality);
    }

    /** The same configuration with other limits on encoded images (ClassifyRequest.encoded_image, {@code cleave edge FILE}). */
    public EdgeConfig withImageLimits(ImageLimits limits) {
        return new EdgeConfig(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator,
                via, slowdown, warmUpMillis, device, limits, jpegQuality);
    }

    /** The same configuration sending JPEG input at another quality (1-100). */
    public EdgeConfig withJpegQuality(int quality) {
        return new EdgeConfig(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator,
                via, slowdown, warmUpMillis, device, imageLimits, quality);
    }

    /** The device as answers name it: the class, or k&lt;k_max&gt;[-x&lt;slowdown&gt;] for an unnamed one. */
    public String deviceLabel() {
        return device != null ? device : DeviceClass.unnamedLabel(kMax, slowdown);
    }

    public EdgeConfig {
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new IllegalArgumentException("jpegQuality must be 1 to 100, got " + jpegQuality);
        }
        if (imageLimits == null) {
            throw new IllegalArgumentException("imageLimits must be set (ImageLimits.DEFAULT)");
        }
        if (!(slowdown >= 1)) {
            throw new IllegalArgumentException("slowdown must be >= 1 (an emulated device is never faster than this machine), got " + slowdown);
        }
        if (!PolicyRegistry.FIXED.equals(policy) && !PolicyRegistry.isPlanned(policy)) {
            throw new IllegalArgumentException("unknown policy '" + policy + "'; expected one of "
                    + String.join(", ", PolicyRegistry.edgePolicies()));
        }
    }

    public EdgeConfig(Path pack, int kMax, int threads, List<String> workers, Plan plan, int concurrency, String host, int port,
            long shutdownGraceMillis, String policy, String coordinator) {
        this(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, policy, coordinator, null, 1);
    }

    public EdgeConfig(Path pack, int kMax, int threads, List<String> workers, Plan plan, int concurrency, String host, int port,
            long shutdownGraceMillis) {
        this(pack, kMax, threads, workers, plan, concurrency, host, port, shutdownGraceMillis, PolicyRegistry.FIXED, null);
    }
}
