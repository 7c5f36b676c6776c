package io.cleave.core.error;

/**
 * A failure with a precise, caller-facing {@link ErrorCode}. Thrown by Cleave code for anything a
 * caller or operator can act on; {@link StatusMapper} turns it into a gRPC status.
 */
public class CleaveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    public CleaveException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public CleaveException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public static CleaveException invalid(String message) {
        return new CleaveException(ErrorCode.INVALID_ARGUMENT, message);
    }
}
