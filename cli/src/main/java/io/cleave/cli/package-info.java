/** The ./cleave launcher: picocli subcommands that wire the deployables, eval and bench. */
package io.cleave.cli;
