/** The edge agent deployable: local compute, the race with the cloud, and its wiring. */
package io.cleave.edge;
