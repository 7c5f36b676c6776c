package io.cleave.cli;

import io.cleave.core.security.Tls;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Mutual TLS between Cleave components: {@code --tls-dir} holds what {@code cleave certs} writes. */
final class TlsOptions {
    @Option(names = "--tls-dir", defaultValue = "${env:CLEAVE_TLS_DIR}", paramLabel = "DIR",
            description = "mutual TLS with the other Cleave components: DIR/ca.crt, and this component's DIR/NAME.crt and DIR/NAME.key, "
                    + "as `cleave certs` writes them (default: plaintext; env CLEAVE_TLS_DIR)")
    Path dir;

    @Option(names = "--tls-name", defaultValue = "${env:CLEAVE_TLS_NAME}", paramLabel = "NAME",
            description = "this component's certificate in --tls-dir (default: its role, edge, worker or coordinator; env CLEAVE_TLS_NAME)")
    String name;

    /**
     * How a server on {@code host} is protected, for its start-up line; plaintext beyond loopback
     * is said loudly: anyone who reaches the port can call it.
     */
    static String describe(Tls tls, String host) {
        if (tls.enabled()) {
            return "mutual TLS, callers checked by role";
        }
        return loopback(host) ? "plaintext, loopback only" : "PLAINTEXT on " + host + ": anyone who reaches this port can call it; use --tls-dir";
    }

    /** Whether {@code host} (as given to --host, never resolved) is a loopback address. */
    static boolean loopback(String host) {
        return host.startsWith("127.") || host.equals("::1") || host.equals("[::1]") || host.equalsIgnoreCase("localhost");
    }

    /** The TLS material for a component of {@code role}; plaintext without --tls-dir. */
    Tls tls(String role) {
        if (dir == null) {
            if (name != null) {
                throw new IllegalArgumentException("--tls-name needs --tls-dir");
            }
            return Tls.PLAINTEXT;
        }
        try {
            return Tls.fromDirectory(dir, name == null ? role : name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-dir " + dir + ": " + e.getMessage() + " (make them with `cleave certs --out " + dir + "`)");
        }
    }
}
