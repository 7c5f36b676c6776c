/** Measurement: windowed estimators of bandwidth, RTT and compute, on an injected clock. */
package io.cleave.core.measure;
