/**
 * Encoded images in: JPEG or PNG bytes from a device application or a file, checked against the
 * edge's limits, decoded and brought to the pack's input as its manifest says, before a request is
 * admitted, so that decoding counts against the request's deadline. The gRPC API and
 * {@code cleave edge FILE} both go through {@link io.cleave.edge.image.ImageIntake}.
 */
package io.cleave.edge.image;
