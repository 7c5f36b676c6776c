package io.cleave.core.error;

/** What went wrong, in the terms a caller can act on; each maps to exactly one gRPC code. */
public enum ErrorCode {
    /** The caller sent something malformed (shape, dtype, payload size, NaN values, split). */
    INVALID_ARGUMENT,
    /** The model or version asked for is not served here. */
    NOT_FOUND,
    /** A bounded queue is full, or admission control predicts the deadline cannot be met. */
    RESOURCE_EXHAUSTED,
    /** The deadline passed before the work could be done. */
    DEADLINE_EXCEEDED,
    /** The service is shutting down or a dependency cannot be reached. */
    UNAVAILABLE,
    /** A model pack on disk is broken: missing file, checksum mismatch, bad graph. */
    FAILED_PRECONDITION,
    /** The caller is authenticated but not allowed this (its certificate's role, an address it may not claim). */
    PERMISSION_DENIED,
    /** A bug on our side. */
    INTERNAL
}
