package io.cleave.core.error;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/** The one place that turns exceptions into gRPC {@link Status}es. */
public final class StatusMapper {
    private StatusMapper() {}

    public static Status toStatus(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof CleaveException) {
            CleaveException e = (CleaveException) c;
            return codeOf(e.code()).withDescription(e.getMessage());
        }
        if (c instanceof StatusRuntimeException) {
            return ((StatusRuntimeException) c).getStatus();
        }
        if (c instanceof StatusException) {
            return ((StatusException) c).getStatus();
        }
        if (c instanceof RejectedExecutionException) {
            return Status.RESOURCE_EXHAUSTED.withDescription("server busy: " + c.getMessage());
        }
        if (c instanceof CancellationException) {
            return Status.CANCELLED.withDescription("cancelled");
        }
        return Status.INTERNAL.withDescription(c.getClass().getSimpleName() + ": " + c.getMessage()).withCause(c);
    }

    /**
     * Whether {@code s} means a bug on our side (INTERNAL, UNKNOWN, DATA_LOSS): log it with its
     * stack trace. Every other status is the caller's mistake, the load or the deadline: log it
     * with a {@link RateLimitedLog}, without one.
     */
    public static boolean isOurBug(Status s) {
        Status.Code c = s.getCode();
        return c == Status.Code.INTERNAL || c == Status.Code.UNKNOWN || c == Status.Code.DATA_LOSS;
    }

    public static StatusRuntimeException toException(Throwable t) {
        return toStatus(t).asRuntimeException();
    }

    static Status codeOf(ErrorCode code) {
        switch (code) {
            case INVALID_ARGUMENT: return Status.INVALID_ARGUMENT;
            case NOT_FOUND: return Status.NOT_FOUND;
            case RESOURCE_EXHAUSTED: return Status.RESOURCE_EXHAUSTED;
            case DEADLINE_EXCEEDED: return Status.DEADLINE_EXCEEDED;
            case UNAVAILABLE: return Status.UNAVAILABLE;
            case FAILED_PRECONDITION: return Status.FAILED_PRECONDITION;
            case PERMISSION_DENIED: return Status.PERMISSION_DENIED;
            default: return Status.INTERNAL;
        }
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
