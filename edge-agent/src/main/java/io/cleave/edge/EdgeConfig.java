package io.cleave.edge;

import io.cleave.core.security.Tls;
import io.cleave.core.codec.JpegCodec;
import io.cleave.core.metrics.Metrics;
import io.cleave.core.plan.Plan;
import io.cleave.core.plan.PolicyRegistry;
import io.cleave.edge.image.ImageLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything an edge agent process needs, immutable. Build one with {@link #builder(Path)}: every
 * field but the pack has a named default, the same one the command line shows.
 *
 * @param kMax blocks the device holds (its capacity)
 * @param threads ONNX Runtime intra-op threads
 * @param workers cloud worker targets (host:port); empty: edge-only
 * @param plan the fixed plan used until a planner is plugged in
 * @param concurrency compute threads of the local pipeline (at most the processors; requests beyond them queue by urgency)
 * @param host bind address of the device API
 * @param port port of the device API; 0 picks a free one
 * @param shutdownGraceMillis how long calls in flight may run on after shutdown begins
 * @param policy "fixed" follows {@code plan}; otherwise a planner policy run embedded on live measurements:
 *     cleave, edge-only, cloud-only, neurosurgeon, edgent
 * @param coordinator coordinator host:port to follow for worker assignments, or null
 * @param via HTTP CONNECT proxy (host:port) every worker channel goes through, e.g. a {@code cleave link}; null: direct
 * @param slowdown emulated device class: each local segment takes this many times its measured time (1: this machine as is)
 * @param warmUpMillis at most this long warming the whole path (cloud included) until the JIT settles before taking
 *     traffic; 0: only local passes (e.g. where warm-up traffic would disturb an emulated link)
 * @param device the named {@link DeviceClass} this configuration emulates, or null
 * @param imageLimits the largest encoded image accepted, in bytes and in pixels
 * @param jpegQuality quality (1-100) of the JPEG sent by plans that send the input as JPEG
 * @param metricsPort port of the Prometheus endpoint ({@code /metrics}) on {@code host}; 0 picks a free one;
 *     {@link Metrics#OFF}: none (the builder's default: an embedded edge opens no port unasked)
 * @param tls mutual TLS to workers and the coordinator ({@link Tls#PLAINTEXT}: none, the builder's default)
 * @param apiToken the bearer token every device-API call must carry; null: none (the API is for local applications)
 */
public record EdgeConfig(Path pack, int kMax, int threads, List<String> workers, Plan plan, int concurrency, String host,
        int port, long shutdownGraceMillis, String policy, String coordinator, String via, double slowdown, long warmUpMillis,
        String device, ImageLimits imageLimits, int jpegQuality, int metricsPort, Tls tls, String apiToken) {
    /** Blocks the device holds unless told. */
    public static final int DEFAULT_K_MAX = 4;
    /** ONNX Runtime intra-op threads unless told: one, so that the local pipeline's threads are the parallelism. */
    public static final int DEFAULT_THREADS = 1;
    /** Compute threads of the local pipeline (and the command line's requests in flight) unless told. */
    public static final int DEFAULT_CONCURRENCY = 4;
    /** The fixed plan's threshold unless a plan is given: above 1, so a fixed plan never answers early. */
    public static final double DEFAULT_THRESHOLD = 2.0;
    /** Bind address of the device API unless told: loopback only. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Port of the device API unless told: a free one. */
    public static final int DEFAULT_PORT = 0;
    /** Drain bound on shutdown: a request's deadline is tens of milliseconds, so 2 s covers any in flight. */
    public static final long DEFAULT_SHUTDOWN_GRACE_MILLIS = 2_000;
    /** The policy unless told: Cleave's planner on live measurements. */
    public static final String DEFAULT_POLICY = PolicyRegistry.CLEAVE;
    /** No emulated slowdown: this machine as it is. */
    public static final double DEFAULT_SLOWDOWN = 1;
    /** Default warm-up bound: a fresh JVM on 2 cores settles in a few seconds. */
    public static final long DEFAULT_WARM_UP_MILLIS = 10_000;

    public EdgeConfig {
        Objects.requireNonNull(pack, "pack");
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new IllegalArgumentException("jpegQuality must be 1 to 100, got " + jpegQuality);
        }
        Metrics.checkPort(metricsPort, "metricsPort");
        workers = List.copyOf(workers);
        if (plan == null) {
            throw new IllegalArgumentException("plan must be set");
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

    /** A builder for the pack at {@code pack}, every other field at its default. */
    public static Builder builder(Path pack) {
        return new Builder(pack);
    }

    /** A builder holding this configuration, to change a field or two. */
    public Builder toBuilder() {
        return new Builder(pack).kMax(kMax).threads(threads).workers(workers).plan(plan).concurrency(concurrency).host(host).port(port)
                .shutdownGraceMillis(shutdownGraceMillis).policy(policy).coordinator(coordinator).via(via).slowdown(slowdown)
                .warmUpMillis(warmUpMillis).device(device).imageLimits(imageLimits).jpegQuality(jpegQuality)
                .metricsPort(metricsPort).tls(tls).apiToken(apiToken);
    }

    /** The device as answers name it: the class, or k&lt;k_max&gt;[-x&lt;slowdown&gt;] for an unnamed one. */
    public String deviceLabel() {
        return device != null ? device : DeviceClass.unnamedLabel(kMax, slowdown);
    }

    /** Builds an {@link EdgeConfig}; the record's constructor checks the result. */
    public static final class Builder {
        private final Path pack;
        private int kMax = DEFAULT_K_MAX;
        private int threads = DEFAULT_THREADS;
        private List<String> workers = List.of();
        private Plan plan; // null: edge-only over k_max at DEFAULT_THRESHOLD
        private int concurrency = DEFAULT_CONCURRENCY;
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private long shutdownGraceMillis = DEFAULT_SHUTDOWN_GRACE_MILLIS;
        private String policy = DEFAULT_POLICY;
        private String coordinator;
        private String via;
        private double slowdown = DEFAULT_SLOWDOWN;
        private long warmUpMillis = DEFAULT_WARM_UP_MILLIS;
        private String device;
        private ImageLimits imageLimits = ImageLimits.DEFAULT;
        private int jpegQuality = JpegCodec.DEFAULT_QUALITY;
        private int metricsPort = Metrics.OFF;
        private Tls tls = Tls.PLAINTEXT;
        private String apiToken;

        private Builder(Path pack) {
            this.pack = pack;
        }

        public Builder kMax(int kMax) {
            this.kMax = kMax;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder workers(List<String> workers) {
            this.workers = workers;
            return this;
        }

        /** The fixed plan; unset, edge-only over k_max with {@link #DEFAULT_THRESHOLD}. */
        public Builder plan(Plan plan) {
            this.plan = plan;
            return this;
        }

        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder shutdownGraceMillis(long millis) {
            this.shutdownGraceMillis = millis;
            return this;
        }

        public Builder policy(String policy) {
            this.policy = policy;
            return this;
        }

        public Builder coordinator(String coordinator) {
            this.coordinator = coordinator;
            return this;
        }

        public Builder via(String via) {
            this.via = via;
            return this;
        }

        public Builder slowdown(double slowdown) {
            this.slowdown = slowdown;
            return this;
        }

        public Builder warmUpMillis(long millis) {
            this.warmUpMillis = millis;
            return this;
        }

        /** Names the device (a {@link DeviceClass} whose k_max and slowdown this configuration already has) in every answer. */
        public Builder device(String name) {
            this.device = name;
            return this;
        }

        /** Limits on encoded images (ClassifyRequest.encoded_image, {@code cleave edge FILE}). */
        public Builder imageLimits(ImageLimits limits) {
            this.imageLimits = limits;
            return this;
        }

        /** The Prometheus endpoint's port on the API's host (0: a free one; {@link Metrics#OFF}: none). */
        /** Mutual TLS presented to workers and the coordinator (the device API stays for local applications). */
        public Builder tls(Tls tls) {
            this.tls = java.util.Objects.requireNonNull(tls, "tls");
            return this;
        }

        /** The token every device-API call must carry ({@link io.cleave.core.security.BearerToken}); null: none (loopback). */
        public Builder apiToken(String token) {
            this.apiToken = token == null ? null : io.cleave.core.security.BearerToken.check(token);
            return this;
        }

        public Builder metricsPort(int port) {
            this.metricsPort = port;
            return this;
        }

        /** Quality (1-100) of the JPEG a plan sending the input as JPEG sends. */
        public Builder jpegQuality(int quality) {
            this.jpegQuality = quality;
            return this;
        }

        public EdgeConfig build() {
            return new EdgeConfig(pack, kMax, threads, workers, plan != null ? plan : Plan.edgeOnly(kMax, DEFAULT_THRESHOLD), concurrency,
                    host, port, shutdownGraceMillis, policy, coordinator, via, slowdown, warmUpMillis, device, imageLimits, jpegQuality,
                    metricsPort, tls, apiToken);
        }
    }
}
