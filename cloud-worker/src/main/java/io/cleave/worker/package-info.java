/** The cloud worker deployable: wiring of engine, layer-wise scheduler and gRPC server. */
package io.cleave.worker;
