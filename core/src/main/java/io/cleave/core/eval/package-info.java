/** Reference evaluation of every exit through the engine alone. */
package io.cleave.core.eval;
