/* SPDX-License-Identifier: MIT */
/*
 * Logging. Messages go to stderr, one line each, prefixed with "sluice: ".
 * The log is stateless on purpose: no global level. Debug messages are
 * printed when SLUICE_DEBUG is set in the environment (read per call: debug
 * logging is never on a hot path unless asked for).
 *
 * A device logs through its own struct log_dev: log_dev_err(&dev->log,
 * "bad thing %u", n) prints "sluice: error: NAME: bad thing 1", NAME being
 * what log_dev_init() set ("virtio-blk", "vhost-user /run/vu.sock"). The
 * struct is per device instance so that per-device state, such as a rate
 * limit for guest-triggerable lines, has a home without changing callers.
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

/* Room for "vhost-user-net " and a whole socket path (sun_path: 107 characters). */
#define LOG_DEV_NAME_MAX 128

/* One device's log state. */
struct log_dev {
	char name[LOG_DEV_NAME_MAX]; /* what its lines start with, before ": " */
};

/* Set the name, printf-style; a name longer than LOG_DEV_NAME_MAX - 1 is cut. */
void log_dev_init(struct log_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log_msg() with "NAME: " in front of the message. */
void log_dev_msg(struct log_dev *d, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_dev_err(d, ...)  log_dev_msg(d, LOG_ERROR, __VA_ARGS__)
#define log_dev_warn(d, ...) log_dev_msg(d, LOG_WARN, __VA_ARGS__)
#define log_dev_info(d, ...) log_dev_msg(d, LOG_INFO, __VA_ARGS__)
#define log_dev_debug(d, ...)                                                                      \
	do {                                                                                       \
		if (log_debug_enabled())                                                           \
			log_dev_msg(d, LOG_DEBUG, __VA_ARGS__);                                    \
	} while (0)

#endif
