package io.cleave.edge.image;

import io.cleave.edge.Outcome;

/**
 * The answer to an encoded image.
 *
 * @param outcome the agent's answer for the image's pixels
 * @param image what the image was and how it was prepared
 * @param latencyNanos from receiving the encoded bytes to the answer: decoding included
 */
public record ImageOutcome(Outcome outcome, PreparedImage image, long latencyNanos) {}
