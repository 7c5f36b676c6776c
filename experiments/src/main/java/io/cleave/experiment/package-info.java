/** The experiment runner: trace x policy x deadline through real edge agents and workers, with reports. */
package io.cleave.experiment;
