package io.cleave.core.net;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/** Parses {@code host:port} options, naming the option in the error. */
public final class HostPort {
    private HostPort() {}

    /** An unresolved address for {@code value} ({@code host:port}, or {@code [v6]:port}); {@code option} names it in errors. */
    public static InetSocketAddress parse(String value, String option) {
        int colon = value == null ? -1 : value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(option + " must be host:port, got '" + value + "'");
        }
        String host = value.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be host:port, got '" + value + "' (port is not a number)");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(option + " port must be 1..65535, got " + port);
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** Comma-separated {@code host:port}s (e.g. coordinator replicas), each checked as {@link #parse} does; at least one. */
    public static List<InetSocketAddress> parseList(String value, String option) {
        List<InetSocketAddress> all = new ArrayList<>();
        for (String one : (value == null ? "" : value).split(",", -1)) {
            if (one.isBlank()) {
                throw new IllegalArgumentException(option + " must be host:port[,host:port...], got '" + value + "'");
            }
            all.add(parse(one.strip(), option));
        }
        return all;
    }

    /** The {@code host:port} targets of a comma-separated list, as given (not resolved), blanks around them dropped. */
    public static List<String> targets(String value) {
        List<String> all = new ArrayList<>();
        for (String one : value.split(",")) {
            if (!one.isBlank()) {
                all.add(one.strip());
            }
        }
        return all;
    }
}
