/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LOG_LINE_MAX 1024

_Static_assert(LOG_DEV_NAME_MAX + 2 < LOG_LINE_MAX, "a device name and \": \" fit a line");

bool log_debug_enabled(void)
{
	const char *v = getenv("SLUICE_DEBUG");
	return v && *v && *v != '0';
}

static void log_emit(enum log_level level, const char *line)
{
	static const char *const tag[] = {"error: ", "warning: ", "", "debug: "};

	/* One fprintf per line keeps lines from different threads whole. */
	fprintf(stderr, "sluice: %s%s\n", tag[level], line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_emit(level, line);
}

void log_dev_init(struct log_dev *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->name, sizeof(d->name), fmt, ap);
	va_end(ap);
}

void log_dev_msg(struct log_dev *d, enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	/* The same line, cut at the same length, as log_msg("NAME: " fmt, ...) printed. */
	size_t n = (size_t)snprintf(line, sizeof(line), "%s: ", d->name);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	log_emit(level, line);
}
