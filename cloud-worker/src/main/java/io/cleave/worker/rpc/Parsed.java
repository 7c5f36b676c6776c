package io.cleave.worker.rpc;

import io.cleave.core.error.CleaveException;

/**
 * A request message as the worker's marshaller read it off the wire: the message, or why its bytes
 * are not one. A parse failure travels to the handler as a value, so that the handler answers it
 * like any other caller mistake (INVALID_ARGUMENT with the parser's message); thrown from the
 * marshaller, gRPC would end the call UNKNOWN and log a stack trace.
 */
record Parsed<T>(T message, CleaveException error) {
    static <T> Parsed<T> of(T message) {
        return new Parsed<>(message, null);
    }

    static <T> Parsed<T> failed(CleaveException error) {
        return new Parsed<>(null, error);
    }

    /** The message; throws the parse failure for the handler's usual error path. */
    T get() {
        if (error != null) {
            throw error;
        }
        return message;
    }
}
