/** Model packs: the manifest, its validation, and access to the files it names. */
package io.cleave.core.pack;
