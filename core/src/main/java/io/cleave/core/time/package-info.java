/** Injected clocks and deadlines. */
package io.cleave.core.time;
