/** The edge's live measurements that feed its planner. */
package io.cleave.edge.measure;
