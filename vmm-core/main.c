/* SPDX-License-Identifier: MIT */
/* sluice: a KVM virtual machine monitor for hardware-assisted I/O. */
#include "cli.h"
#include "virtio_devices.h"
#include "vm.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	enum cli_command cmd;
	struct vm_config cfg;
	struct virtio_devices devs;
	struct vm vm;
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
	if (vm_create(&vm, &cfg))
		return VM_STATUS_SETUP_ERROR;
	if (virtio_devices_create(&devs, &vm)) {
		vm_destroy(&vm);
		return VM_STATUS_SETUP_ERROR;
	}
	status = vm_run(&vm);
	/* vm_run has joined the vCPUs: nothing touches the devices any more. */
	virtio_devices_destroy(&devs);
	vm_destroy(&vm);
	return status;
}
