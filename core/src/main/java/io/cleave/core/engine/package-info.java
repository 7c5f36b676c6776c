/** The segment engine: stem, block ranges and exits of a pack through DJL's ONNX Runtime engine. */
package io.cleave.core.engine;
