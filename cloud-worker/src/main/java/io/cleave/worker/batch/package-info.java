/** Layer-wise batching: per-block EDF queues, per-sample exit masking, admission control, profiles. */
package io.cleave.worker.batch;
