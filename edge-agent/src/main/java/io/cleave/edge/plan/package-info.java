/** Per-request plans (split, encoding, threshold) and the planner seam. */
package io.cleave.edge.plan;
