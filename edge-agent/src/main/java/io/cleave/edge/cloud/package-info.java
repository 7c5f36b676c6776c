/** The edge's side of the data plane: streams to cloud workers with flow control. */
package io.cleave.edge.cloud;
