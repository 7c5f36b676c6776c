package io.cleave.edge.race;

/**
 * The one answer a request gets.
 *
 * @param candidate the exit result chosen
 * @param latencyNanos from accepting the request to answering
 * @param deadlineMet answered at or before the deadline
 * @param reason why it was sent then: final-exit, confident, deadline, all-done
 */
public record Answer(String requestId, Candidate candidate, long latencyNanos, boolean deadlineMet, String reason) {}
