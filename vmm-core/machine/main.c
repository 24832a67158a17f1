/* SPDX-License-Identifier: MIT */
/* sluice: a KVM virtual machine monitor for hardware-assisted I/O. */
#include "cli.h"
#include "machine.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	enum cli_command cmd;
	struct machine_config cfg;
	struct machine m;
	int status;

	if (cli_parse(argc, argv, &cmd, &cfg))
		return VM_STATUS_SETUP_ERROR;
	switch (cmd) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	case CLI_RUN:
		break;
	}
	/* VM (phase 1), devices (2), ACPI/kernel/vCPUs (3): machine.h. */
	if (machine_create(&m, &cfg))
		return VM_STATUS_SETUP_ERROR;
	status = machine_run(&m);
	machine_destroy(&m);
	return status;
}
