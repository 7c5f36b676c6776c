package io.cleave.cli;

import io.cleave.core.security.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** One command for a development CA and per-component certificates (mutual TLS between Cleave components). */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Make a development CA (DIR/ca.crt, DIR/ca.key; reused when present) and a certificate and key per component "
                + "(DIR/NAME.crt, DIR/NAME.key) for `--tls-dir DIR`: each names its role and the hosts it may serve as. "
                + "For development and tests; in production, issue them from your own CA with the same names.")
final class CertsCommand implements Callable<Integer> {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:-]{1,253}");

    @Option(names = "--out", required = true, defaultValue = "${env:CLEAVE_CERTS_OUT}", paramLabel = "DIR",
            description = "where to write, created if missing (default: none, required; env CLEAVE_CERTS_OUT)")
    Path out;

    @Option(names = "--host", split = ",", defaultValue = "${env:CLEAVE_CERTS_HOST}", paramLabel = "HOST",
            description = "hosts every certificate names: what clients dial and workers advertise "
                    + "(default: localhost, 127.0.0.1, ::1, edge-agent, cloud-worker, coordinator; env CLEAVE_CERTS_HOST)")
    List<String> hosts;

    @Option(names = "--component", split = ",", defaultValue = "${env:CLEAVE_CERTS_COMPONENT}", paramLabel = "ROLE[:NAME]",
            description = "certificates to issue; ROLE is edge, worker or coordinator, NAME (default: the role) names the files "
                    + "(default: edge, worker, coordinator; env CLEAVE_CERTS_COMPONENT)")
    List<String> components;

    @Option(names = "--days", defaultValue = "${env:CLEAVE_CERTS_DAYS:-365}", paramLabel = "N",
            description = "validity of new certificates (default: ${DEFAULT-VALUE}; env CLEAVE_CERTS_DAYS)")
    int days;

    @Override
    public Integer call() throws Exception {
        if (days < 1) {
            throw new IllegalArgumentException("--days must be at least 1, got " + days);
        }
        List<String> names = hosts == null ? List.of("localhost", "127.0.0.1", "::1", "edge-agent", "cloud-worker", "coordinator") : hosts;
        for (String h : names) {
            if (!HOST.matcher(h).matches()) {
                throw new IllegalArgumentException("--host '" + h + "': expected a DNS name or an IP address");
            }
        }
        record Component(Role role, String name) {}
        List<Component> wanted = new ArrayList<>();
        for (String c : components == null ? List.of("edge", "worker", "coordinator") : components) {
            String[] parts = c.split(":", 2);
            Role role;
            try {
                role = Role.of(parts[0]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--component '" + c + "': " + e.getMessage());
            }
            String name = parts.length == 2 ? parts[1] : parts[0];
            if (!NAME.matcher(name).matches() || name.equals("ca")) {
                throw new IllegalArgumentException("--component '" + c + "': NAME must be 1-64 of A-Z a-z 0-9 . _ - and not 'ca'");
            }
            wanted.add(new Component(role, name));
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Instant until = now.plus(Duration.ofDays(days));
        DevCertificates.Issued ca;
        if (Files.exists(out.resolve("ca.crt")) && Files.exists(out.resolve("ca.key"))) {
            ca = DevCertificates.read(out, "ca");
            System.out.println("cleave certs: using the CA in " + out.resolve("ca.crt"));
        } else {
            ca = DevCertificates.authority("Cleave development CA", now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(Math.max(days, 3650))));
            DevCertificates.write(out, "ca", ca);
            System.out.println("cleave certs: new CA " + out.resolve("ca.crt") + " (its key ca.key signs certificates: keep it private)");
        }
        for (Component c : wanted) {
            DevCertificates.write(out, c.name(), DevCertificates.component(ca, c.role(), c.name(), names, now.minus(Duration.ofMinutes(5)), until));
            System.out.println("cleave certs: " + c.role().label() + " '" + c.name() + "' -> " + out.resolve(c.name() + ".crt")
                    + ", valid until " + until + ", hosts " + String.join(", ", names));
        }
        return 0;
    }
}
