/**
 * The coordinator deployable (control plane): workers heartbeat their load and compute profile;
 * edges ask which worker to use (load-aware); silent workers are drained. It never sees a
 * tensor: tokens go edge to worker directly, and every edge keeps planning embedded, so the data
 * path survives the coordinator's loss.
 */
package io.cleave.coordinator;
