package io.cleave.coordinator;

import io.cleave.proto.v1.BlockProfile;
import io.cleave.proto.v1.WorkerHeartbeat;
import java.util.regex.Pattern;

/**
 * What a heartbeat must be before the registry takes it: anyone who reaches the coordinator can
 * send one, and edges act on what it says (where to stream, how loaded, how fast). Fields are
 * range-checked and bounded in size; the target must be a plain host:port.
 */
final class HeartbeatCheck {
    /** Longest worker id, model id, model version or target, in characters (a DNS name is at most 253). */
    static final int MAX_FIELD_CHARS = 255;
    /** Most profile entries: segments x batch sizes of any realistic pack and batch limit. */
    static final int MAX_PROFILE_ENTRIES = 4096;
    /** How much of a refused value a message repeats. */
    private static final int ECHO_CHARS = 64;
    /** A host name or IPv4 address, or an IPv6 address in brackets, then a port; no spaces, no scheme, no path. */
    private static final Pattern TARGET = Pattern.compile("([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]):([0-9]{1,5})");

    private HeartbeatCheck() {}

    /** Why {@code hb} is refused, or null when it is acceptable. */
    static String problem(WorkerHeartbeat hb) {
        if (hb.getWorkerId().isEmpty() || hb.getTarget().isEmpty()) {
            return "heartbeat needs worker_id and target";
        }
        String tooLong = tooLong("worker_id", hb.getWorkerId());
        tooLong = tooLong != null ? tooLong : tooLong("target", hb.getTarget());
        tooLong = tooLong != null ? tooLong : tooLong("model_id", hb.getModelId());
        tooLong = tooLong != null ? tooLong : tooLong("model_version", hb.getModelVersion());
        if (tooLong != null) {
            return tooLong;
        }
        var m = TARGET.matcher(hb.getTarget());
        if (!m.matches() || Integer.parseInt(m.group(2)) < 1 || Integer.parseInt(m.group(2)) > 65535) {
            return "target must be host:port (a host name or address, no spaces, port 1..65535), got '" + echo(hb.getTarget()) + "'";
        }
        if (hb.getQueued() < 0) {
            return "queued must be >= 0, got " + hb.getQueued();
        }
        if (hb.getProfileCount() > MAX_PROFILE_ENTRIES) {
            return "profile has " + hb.getProfileCount() + " entries, at most " + MAX_PROFILE_ENTRIES + " allowed";
        }
        for (BlockProfile p : hb.getProfileList()) {
            if (p.getBlock() < 0 || p.getBatch() < 1 || !(p.getMeanUs() >= 0) || Double.isInfinite(p.getMeanUs())) {
                return "profile entry (block " + p.getBlock() + ", batch " + p.getBatch() + ", mean_us " + p.getMeanUs()
                        + ") out of range: block >= 0, batch >= 1, mean_us finite and >= 0";
            }
        }
        return null;
    }

    /**
     * Under mutual TLS, why the calling worker may not advertise {@code hb}'s target (a host its
     * certificate does not name: edges would stream their users' images there), or null when it may;
     * null without TLS (no identity to check). Call after {@link #problem}, which checks the form.
     */
    static String unvouched(WorkerHeartbeat hb, java.util.Optional<io.cleave.core.security.Identity> caller) {
        if (caller.isEmpty()) {
            return null;
        }
        java.util.regex.Matcher m = TARGET.matcher(hb.getTarget());
        String host = m.matches() ? m.group(1) : hb.getTarget();
        if (caller.get().vouchesFor(host)) {
            return null;
        }
        return "worker " + caller.get() + " may not advertise " + echo(hb.getTarget()) + ": its certificate names "
                + (caller.get().hosts().isEmpty() ? "no host" : String.join(", ", caller.get().hosts()));
    }

    private static String tooLong(String field, String value) {
        return value.length() > MAX_FIELD_CHARS
                ? field + " is " + value.length() + " characters, at most " + MAX_FIELD_CHARS + " allowed ('" + echo(value) + "...')"
                : null;
    }

    private static String echo(String value) {
        return value.length() <= ECHO_CHARS ? value : value.substring(0, ECHO_CHARS);
    }
}
