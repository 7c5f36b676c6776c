/** Link emulation between edge and worker: cut, stall, and (trace-driven) shaping. */
package io.cleave.link;
