/**
 * Real images in: JPEG and PNG bytes decoded to 8-bit planes, and resized the way PIL (and so
 * torchvision's eval transform) resizes them.
 */
package io.cleave.core.image;
