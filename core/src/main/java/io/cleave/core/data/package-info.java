/** Datasets on disk: IDX readers for the committed Fashion-MNIST test set. */
package io.cleave.core.data;
