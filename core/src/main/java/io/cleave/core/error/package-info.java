/** Error types with caller-facing codes, and the single mapping from exceptions to gRPC status. */
package io.cleave.core.error;
