package io.cleave.core.security;

import io.grpc.Context;
import java.net.URI;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Who called, from the peer's certificate: a role and a name in a URI subject alternative name
 * {@code spiffe://cleave/<role>/<name>} (the SPIFFE ID form), and the hosts its DNS and IP
 * alternative names vouch for. Set in the gRPC {@link Context} of each authorized call.
 */
public record Identity(Role role, String name, List<String> hosts) {
    /** The trust domain of every Cleave identity. */
    public static final String TRUST_DOMAIN = "cleave";
    static final Context.Key<Identity> KEY = Context.key("cleave-identity");

    public Identity {
        hosts = List.copyOf(hosts);
    }

    /** The caller of the current call; empty without TLS. */
    public static Optional<Identity> current() {
        return Optional.ofNullable(KEY.get());
    }

    /** The URI alternative name that carries {@code role} and {@code name}. */
    public static String uri(Role role, String name) {
        return "spiffe://" + TRUST_DOMAIN + "/" + role.label() + "/" + name;
    }

    /** Whether the certificate vouches for {@code host} (a DNS name, case-insensitive, or an IP address as written). */
    public boolean vouchesFor(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return hosts.stream().anyMatch(v -> v.equalsIgnoreCase(h));
    }

    /** The identity a certificate names, or empty when it names no Cleave role. */
    public static Optional<Identity> of(X509Certificate cert) {
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
        if (sans == null) {
            return Optional.empty();
        }
        Role role = null;
        String name = null;
        List<String> hosts = new ArrayList<>();
        for (List<?> san : sans) {
            int type = (Integer) san.get(0);
            String value = String.valueOf(san.get(1));
            if (type == 2 || type == 7) { // dNSName, iPAddress
                hosts.add(value.toLowerCase(Locale.ROOT));
            } else if (type == 6 && role == null) { // uniformResourceIdentifier
                Optional<Identity> parsed = parse(value);
                if (parsed.isPresent()) {
                    role = parsed.get().role();
                    name = parsed.get().name();
                }
            }
        }
        return role == null ? Optional.empty() : Optional.of(new Identity(role, name, hosts));
    }

    private static Optional<Identity> parse(String uri) {
        try {
            URI u = URI.create(uri);
            String[] path = u.getPath() == null ? new String[0] : u.getPath().split("/");
            if (!"spiffe".equals(u.getScheme()) || !TRUST_DOMAIN.equals(u.getHost()) || path.length != 3 || path[2].isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Identity(Role.of(path[1]), path[2], List.of()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return role.label() + " '" + name + "'";
    }
}
