/** The race between local and cloud exits, and the arbiter that answers each request once. */
package io.cleave.edge.race;
