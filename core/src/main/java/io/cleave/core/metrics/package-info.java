/** Prometheus metrics for every server: the registry, the JVM's meters and the scrape endpoint. */
package io.cleave.core.metrics;
