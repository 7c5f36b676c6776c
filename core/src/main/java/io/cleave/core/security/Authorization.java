package io.cleave.core.security;

import io.cleave.core.error.RateLimitedLog;
import io.cleave.proto.v1.CoordinatorGrpc;
import io.cleave.proto.v1.InferenceWorkerGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.LoggerFactory;

/**
 * Checks every call against the caller's role, as its client certificate names it (see
 * {@link Identity}): only workers heartbeat to the coordinator, only edges ask it for workers and
 * only edges stream inference to workers. Anything else any Cleave component may call (health,
 * reflection). No certificate: UNAUTHENTICATED; a certificate naming no Cleave role, or the wrong
 * one: PERMISSION_DENIED, logged (rate-limited). An authorized call carries its {@link Identity}.
 */
public final class Authorization implements ServerInterceptor {
    private static final RateLimitedLog refusals = RateLimitedLog.warnings(LoggerFactory.getLogger(Authorization.class));

    /** Who may call what; methods not listed are open to every role. */
    static final Map<String, Set<Role>> POLICY = Map.of(
            CoordinatorGrpc.getHeartbeatMethod().getFullMethodName(), EnumSet.of(Role.WORKER),
            CoordinatorGrpc.getAssignMethod().getFullMethodName(), EnumSet.of(Role.EDGE),
            InferenceWorkerGrpc.getInferMethod().getFullMethodName(), EnumSet.of(Role.EDGE),
            InferenceWorkerGrpc.getDescribeMethod().getFullMethodName(), EnumSet.of(Role.EDGE),
            InferenceWorkerGrpc.getProbeMethod().getFullMethodName(), EnumSet.of(Role.EDGE));

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        Optional<X509Certificate> cert = peerCertificate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        if (cert.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED, "no client certificate: Cleave services require mutual TLS");
        }
        Optional<Identity> who = Identity.of(cert.get());
        if (who.isEmpty()) {
            return refuse(call, Status.PERMISSION_DENIED, "the client certificate (" + cert.get().getSubjectX500Principal()
                    + ") names no Cleave role: expected a URI alternative name " + Identity.uri(Role.EDGE, "<name>")
                    + " (or worker, coordinator)");
        }
        Set<Role> allowed = POLICY.get(method);
        if (allowed != null && !allowed.contains(who.get().role())) {
            return refuse(call, Status.PERMISSION_DENIED, method + " is for " + allowed.stream().map(Role::label)
                    .collect(Collectors.joining(", ")) + " certificates; the caller is " + who.get());
        }
        return Contexts.interceptCall(Context.current().withValue(Identity.KEY, who.get()), call, headers, next);
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status code, String why) {
        refusals.log("refused " + code.getCode() + " " + call.getMethodDescriptor().getFullMethodName(), why);
        call.close(code.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {};
    }

    private static Optional<X509Certificate> peerCertificate(SSLSession session) {
        if (session == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }
}
