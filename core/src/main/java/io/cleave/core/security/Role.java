package io.cleave.core.security;

import java.util.Locale;

/** What a Cleave component is, as its certificate names it. */
public enum Role {
    EDGE, WORKER, COORDINATOR;

    /** The name in certificates and messages: {@code edge}, {@code worker}, {@code coordinator}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code label}; IllegalArgumentException naming the allowed ones otherwise. */
    public static Role of(String label) {
        for (Role r : values()) {
            if (r.label().equals(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("no Cleave role '" + label + "' (allowed: edge, worker, coordinator)");
    }
}
