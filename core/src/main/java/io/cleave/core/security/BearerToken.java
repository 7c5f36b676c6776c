package io.cleave.core.security;

import io.cleave.core.error.RateLimitedLog;
import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.slf4j.LoggerFactory;

/**
 * The edge's device API when it is exposed beyond loopback: every call carries
 * {@code authorization: Bearer <token>}, compared in constant time. The health service stays
 * open (orchestrators probe it without secrets; it tells only whether the edge serves). No or a
 * wrong token: UNAUTHENTICATED, logged once per kind per 10 s.
 */
public final class BearerToken implements ServerInterceptor {
    /** Shortest token accepted: a guessable token protects nothing. */
    public static final int MIN_CHARS = 16;
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final RateLimitedLog refusals = RateLimitedLog.warnings(LoggerFactory.getLogger(BearerToken.class));
    private final byte[] expected;

    public BearerToken(String token) {
        this.expected = header(check(token)).getBytes(StandardCharsets.US_ASCII);
    }

    /** {@code token}, or IllegalArgumentException saying what a token must be. */
    public static String check(String token) {
        if (token == null || token.length() < MIN_CHARS || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("a device-API token must be at least " + MIN_CHARS
                    + " printable ASCII characters without spaces (e.g. `openssl rand -hex 24`)");
        }
        return token;
    }

    /** What a client sends: attaches the token to every call of a stub ({@code stub.withInterceptors(...)}). */
    public static ClientInterceptor client(String token) {
        Metadata md = new Metadata();
        md.put(AUTHORIZATION, header(check(token)));
        return MetadataUtils.newAttachHeadersInterceptor(md);
    }

    private static String header(String token) {
        return "Bearer " + token;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        String got = headers.get(AUTHORIZATION);
        if (got == null) {
            return refuse(call, "no token", "the device API needs an 'authorization: Bearer <token>' header");
        }
        if (!MessageDigest.isEqual(expected, got.getBytes(StandardCharsets.US_ASCII))) {
            return refuse(call, "wrong token", "wrong device-API token");
        }
        return next.startCall(call, headers);
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, String kind, String why) {
        refusals.log("device API refused: " + kind, why);
        call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
