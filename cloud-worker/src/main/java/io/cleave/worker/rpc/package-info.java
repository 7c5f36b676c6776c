/** The worker's gRPC handlers: proto frames to scheduler jobs and results back. */
package io.cleave.worker.rpc;
