/**
 * The device's own compute: stem, blocks and local exits of a request, scheduled by urgency
 * (first local exit first, then earliest deadline) over a fixed set of threads, with the
 * measurements and the emulated device slowdown. Knows nothing of the cloud.
 */
package io.cleave.edge.local;
