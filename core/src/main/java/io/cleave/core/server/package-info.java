/**
 * What every Cleave server shares, and nothing more: {@link io.cleave.core.server.ServerLifecycle}
 * starts a gRPC server with its health service from whichever {@code ServerBuilder} it is given
 * (Netty in production, in-process in tests) and owns the one shutdown sequence. It depends on
 * grpc-api and grpc-services only: each deployable keeps its own transport and wiring.
 */
package io.cleave.core.server;
