/** The edge agent's gRPC API for device applications. */
package io.cleave.edge.rpc;
