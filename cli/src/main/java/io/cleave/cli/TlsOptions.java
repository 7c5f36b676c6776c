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

    // arity 0..1: a plain flag whose default is true is turned *off* by picocli when given (CLEAVE_PLAINTEXT=true --plaintext)
    @Option(names = "--plaintext", defaultValue = "${env:CLEAVE_PLAINTEXT:-false}", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "no TLS between Cleave components, for loopback experiments only (a worker or coordinator on any other "
                    + "--host is refused): anyone who reaches the ports can call them and read what passes (logged loudly) (default: "
                    + "${DEFAULT-VALUE}; env CLEAVE_PLAINTEXT)")
    boolean plaintext;

    @Option(names = "--tls-name", defaultValue = "${env:CLEAVE_TLS_NAME}", paramLabel = "NAME",
            description = "this component's certificate in --tls-dir (default: its role, edge, worker or coordinator; env CLEAVE_TLS_NAME)")
    String name;

    /** How a server is protected, for its start-up line. */
    static String describe(Tls tls) {
        return tls.enabled() ? "mutual TLS, callers checked by role" : "plaintext, loopback only";
    }

    /**
     * Refuses a component that talks to other Cleave components with neither --tls-dir nor
     * --plaintext: plaintext is a choice, not a default, and only for loopback experiments: a
     * server of {@code role} on {@code host} beyond loopback with --plaintext is refused too
     * ({@code host} null: the component serves no other component, only its channels are plain).
     */
    void requireChoice(String role, String host) {
        if (dir != null && plaintext) {
            throw new IllegalArgumentException("--plaintext and --tls-dir exclude each other");
        }
        if (dir == null && !plaintext) {
            throw new IllegalArgumentException("cleave " + role + " talks to other Cleave components: give it --tls-dir DIR (mutual TLS; "
                    + "`cleave certs --out DIR` makes one) or --plaintext (loopback experiments only)");
        }
        if (plaintext && host != null && !loopback(host)) {
            throw new IllegalArgumentException("--plaintext is for loopback experiments: on --host " + host + " anyone who reaches the port could"
                    + " call this " + role + " and read what passes; give it --tls-dir DIR (`cleave certs --out DIR --host " + host + "`)");
        }
        if (plaintext) {
            org.slf4j.LoggerFactory.getLogger(TlsOptions.class).warn("{} runs WITHOUT TLS (--plaintext): loopback experiments only", role);
        }
    }

    /** Whether {@code host} (as given to --host, never resolved) is a loopback address. */
    static boolean loopback(String host) {
        return host.startsWith("127.") || host.equals("::1") || host.equals("[::1]") || host.equalsIgnoreCase("localhost");
    }

    /** The TLS material for a component of {@code role}; plaintext without --tls-dir. */
    Tls tls(String role) {
        if (dir != null && plaintext) {
            throw new IllegalArgumentException("--plaintext and --tls-dir exclude each other");
        }
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
