package io.cleave.core.security;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A component's TLS material, for grpc-java's own TLS: its certificate (PEM), its private key
 * (PEM, PKCS#8) and the CA certificate that signs every Cleave component. A server with it
 * requires a client certificate from that CA (mutual TLS), and a client presents its own and
 * trusts only that CA. {@link #PLAINTEXT}: no TLS at all.
 */
public record Tls(Path certificate, Path privateKey, Path ca) {
    public static final Tls PLAINTEXT = new Tls(null, null, null);

    public Tls {
        if ((certificate == null) != (privateKey == null) || (certificate == null) != (ca == null)) {
            throw new IllegalArgumentException("TLS needs a certificate, its private key and the CA together");
        }
    }

    /**
     * The files {@code cleave certs} writes for component {@code name} into {@code dir}:
     * {@code name.crt}, {@code name.key}, {@code ca.crt}. Each must be readable.
     */
    public static Tls fromDirectory(Path dir, String name) {
        Tls tls = new Tls(dir.resolve(name + ".crt"), dir.resolve(name + ".key"), dir.resolve("ca.crt"));
        tls.check();
        return tls;
    }

    public boolean enabled() {
        return certificate != null;
    }

    /** Throws IllegalArgumentException naming the first file that is not readable. */
    public Tls check() {
        if (enabled()) {
            for (Path p : new Path[] {certificate, privateKey, ca}) {
                if (!Files.isReadable(p)) {
                    throw new IllegalArgumentException("TLS file not readable: " + p);
                }
            }
        }
        return this;
    }

    /** Mutual TLS for a server: its certificate, and a client certificate from the CA required. */
    public ServerCredentials serverCredentials() {
        if (!enabled()) {
            return InsecureServerCredentials.create();
        }
        try {
            return TlsServerCredentials.newBuilder()
                    .keyManager(certificate.toFile(), privateKey.toFile())
                    .trustManager(ca.toFile())
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read TLS material " + this + ": " + e.getMessage(), e);
        }
    }

    /** For a client: its own certificate presented, only the CA trusted. */
    public ChannelCredentials channelCredentials() {
        if (!enabled()) {
            return InsecureChannelCredentials.create();
        }
        try {
            return TlsChannelCredentials.newBuilder()
                    .keyManager(certificate.toFile(), privateKey.toFile())
                    .trustManager(ca.toFile())
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read TLS material " + this + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return enabled() ? "mutual TLS (certificate " + certificate + ", CA " + ca + ")" : "plaintext";
    }
}
