/* SPDX-License-Identifier: MIT */
/*
 * Logging. Messages go to stderr, one line each, prefixed with "sluice: ".
 * The log is stateless on purpose: no global level. Debug messages are
 * printed when SLUICE_DEBUG is set in the environment (read per call: debug
 * logging is never on a hot path unless asked for).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_debug_enabled(void);

#define log_err(...)  log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_debug_enabled())                                                           \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                           \
	} while (0)

#endif
