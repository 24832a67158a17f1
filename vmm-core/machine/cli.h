/* SPDX-License-Identifier: MIT */
/*
 * Command line of the `sluice` program: subcommands and their options. The
 * VM-wide options are here; each device option belongs to its device kind
 * (machine_kinds.c), which parses it and prints its help.
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdio.h>

#include "machine.h"

enum cli_command { CLI_RUN, CLI_HELP, CLI_VERSION };

#define CLI_DEFAULT_MEMORY (256ULL << 20)
#define CLI_MAX_CPUS	   254 /* xAPIC IDs; 255 is the broadcast ID */

/*
 * Parse argv into *cmd and *cfg. Returns 0, or -EINVAL after printing one
 * line naming the bad argument. Path strings in cfg->vm (kernel, initrd,
 * command line, CPU policy) point into argv.
 */
int cli_parse(int argc, char **argv, enum cli_command *cmd, struct machine_config *cfg);
void cli_usage(FILE *f);

#endif
