/**
 * The coordinator deployable (control plane). Not built yet: the planner it will run is in
 * {@code io.cleave.core.plan} and already runs embedded in the edge ({@code --policy cleave}).
 * Registration, heartbeats, load-aware worker assignment and plan distribution are the
 * coordinator issue's work.
 */
package io.cleave.coordinator;
