/* SPDX-License-Identifier: MIT */
#include "cpu_policy.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 8

void cpu_policy_config_init(struct cpu_policy_config *cfg, unsigned nr_cpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = nr_cpus;
	cfg->pmu = false;
}

void cpu_policy_config_free(struct cpu_policy_config *cfg)
{
	free(cfg->cpuid_edits);
	free(cfg->msr_rules);
	cfg->cpuid_edits = NULL;
	cfg->msr_rules = NULL;
	cfg->nr_cpuid_edits = 0;
	cfg->nr_msr_rules = 0;
	cfg->cap_cpuid_edits = 0;
	cfg->cap_msr_rules = 0;
}

const struct msr_rule *cpu_policy_find_msr_rule(const struct cpu_policy_config *cfg, uint32_t index)
{
	for (size_t i = 0; i < cfg->nr_msr_rules; i++)
		if (cfg->msr_rules[i].index == index)
			return &cfg->msr_rules[i];
	return NULL;
}

struct parse_ctx {
	struct cpu_policy_config *cfg;
	const char *origin;
	unsigned line;
};

static int parse_error(const struct parse_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parse_error(const struct parse_ctx *ctx, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s:%u: %s", ctx->origin, ctx->line, msg);
	return -EINVAL;
}

/* Hexadecimal with optional 0x prefix; no sign, no spaces, at most max. */
static int parse_hex(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX >> 4))
			return -EINVAL;
		v = (v << 4) | d;
		digits++;
	}
	if (!digits || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_reg(const char *s, enum cpuid_reg *reg)
{
	static const char *const names[] = {"eax", "ebx", "ecx", "edx"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(s, names[i])) {
			*reg = (enum cpuid_reg)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_pmu(struct parse_ctx *ctx, char **tok, unsigned n)
{
	if (n != 2)
		return parse_error(ctx, "expected 'pmu on|off'");
	if (!strcmp(tok[1], "on"))
		ctx->cfg->pmu = true;
	else if (!strcmp(tok[1], "off"))
		ctx->cfg->pmu = false;
	else
		return parse_error(ctx, "pmu must be 'on' or 'off'");
	return 0;
}

static int parse_cpuid(struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct cpu_policy_config *cfg = ctx->cfg;
	struct cpuid_edit e = {.line = ctx->line};
	uint64_t v;
	char *dot;

	if (n != 5)
		return parse_error(ctx, "expected 'cpuid LEAF[.SUBLEAF] REG set|clear|value HEX'");
	dot = strchr(tok[1], '.');
	if (dot) {
		*dot = '\0';
		if (parse_hex(dot + 1, UINT32_MAX, &v))
			return parse_error(ctx, "bad cpuid subleaf '%s'", dot + 1);
		e.subleaf = (uint32_t)v;
		e.has_subleaf = true;
	}
	if (parse_hex(tok[1], UINT32_MAX, &v))
		return parse_error(ctx, "bad cpuid leaf '%s'", tok[1]);
	e.leaf = (uint32_t)v;
	if (parse_reg(tok[2], &e.reg))
		return parse_error(ctx, "bad register '%s' (eax, ebx, ecx or edx)", tok[2]);
	if (!strcmp(tok[3], "set"))
		e.op = CPUID_EDIT_SET;
	else if (!strcmp(tok[3], "clear"))
		e.op = CPUID_EDIT_CLEAR;
	else if (!strcmp(tok[3], "value"))
		e.op = CPUID_EDIT_VALUE;
	else
		return parse_error(ctx, "bad cpuid operation '%s' (set, clear or value)", tok[3]);
	if (parse_hex(tok[4], UINT32_MAX, &v))
		return parse_error(ctx, "bad 32-bit hex value '%s'", tok[4]);
	e.value = (uint32_t)v;

	if (cfg->nr_cpuid_edits >= CPU_POLICY_MAX_CPUID_EDITS)
		return parse_error(ctx, "too many cpuid lines (at most %d)",
				   CPU_POLICY_MAX_CPUID_EDITS);
	if (cfg->nr_cpuid_edits == cfg->cap_cpuid_edits) {
		size_t cap = cfg->cap_cpuid_edits ? cfg->cap_cpuid_edits * 2 : 8;
		struct cpuid_edit *p = realloc(cfg->cpuid_edits, cap * sizeof(*p));

		if (!p) {
			log_err("%s:%u: out of memory", ctx->origin, ctx->line);
			return -ENOMEM;
		}
		cfg->cpuid_edits = p;
		cfg->cap_cpuid_edits = cap;
	}
	cfg->cpuid_edits[cfg->nr_cpuid_edits++] = e;
	return 0;
}

static int parse_msr(struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct cpu_policy_config *cfg = ctx->cfg;
	struct msr_rule r = {0};
	uint64_t v;

	if (n < 3)
		return parse_error(ctx, "expected 'msr INDEX gp' or 'msr INDEX value HEX [check]'");
	if (parse_hex(tok[1], UINT32_MAX, &v))
		return parse_error(ctx, "bad MSR index '%s'", tok[1]);
	r.index = (uint32_t)v;
	if (!strcmp(tok[2], "gp")) {
		if (n != 3)
			return parse_error(ctx, "unexpected '%s' after 'gp'", tok[3]);
		r.action = MSR_ACTION_GP;
	} else if (!strcmp(tok[2], "value")) {
		if (n < 4 || n > 5)
			return parse_error(ctx, "expected 'msr INDEX value HEX [check]'");
		if (parse_hex(tok[3], UINT64_MAX, &v))
			return parse_error(ctx, "bad 64-bit hex value '%s'", tok[3]);
		r.action = MSR_ACTION_VALUE;
		r.value = v;
		if (n == 5) {
			if (strcmp(tok[4], "check"))
				return parse_error(ctx, "unexpected '%s' (only 'check' may follow)",
						   tok[4]);
			r.check_writes = true;
		}
	} else {
		return parse_error(ctx, "bad msr action '%s' (gp or value)", tok[2]);
	}
	if (cpu_policy_find_msr_rule(cfg, r.index))
		return parse_error(ctx, "MSR 0x%x already has a rule", r.index);

	if (cfg->nr_msr_rules >= CPU_POLICY_MAX_MSR_RULES)
		return parse_error(ctx, "too many msr lines (at most %d)",
				   CPU_POLICY_MAX_MSR_RULES);
	if (cfg->nr_msr_rules == cfg->cap_msr_rules) {
		size_t cap = cfg->cap_msr_rules ? cfg->cap_msr_rules * 2 : 8;
		struct msr_rule *p = realloc(cfg->msr_rules, cap * sizeof(*p));

		if (!p) {
			log_err("%s:%u: out of memory", ctx->origin, ctx->line);
			return -ENOMEM;
		}
		cfg->msr_rules = p;
		cfg->cap_msr_rules = cap;
	}
	cfg->msr_rules[cfg->nr_msr_rules++] = r;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* buf is a NUL-terminated copy of one line without its newline. */
static int parse_line(struct parse_ctx *ctx, char *buf)
{
	char *tok[MAX_TOKENS];
	unsigned n = 0;
	char *p = buf;
	char *hash = strchr(buf, '#');

	if (hash)
		*hash = '\0';
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		if (n == MAX_TOKENS)
			return parse_error(ctx, "too many words");
		tok[n++] = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (n == 0)
		return 0;
	if (!strcmp(tok[0], "pmu"))
		return parse_pmu(ctx, tok, n);
	if (!strcmp(tok[0], "cpuid"))
		return parse_cpuid(ctx, tok, n);
	if (!strcmp(tok[0], "msr"))
		return parse_msr(ctx, tok, n);
	return parse_error(ctx, "unknown keyword '%.32s' (pmu, cpuid or msr)", tok[0]);
}

int cpu_policy_parse(struct cpu_policy_config *cfg, const char *text, size_t len,
		     const char *origin)
{
	struct parse_ctx ctx = {
	    .cfg = cfg,
	    .origin = origin ? origin : "<policy>",
	};
	size_t old_edits = cfg->nr_cpuid_edits, old_rules = cfg->nr_msr_rules;
	bool old_pmu = cfg->pmu;
	char buf[CPU_POLICY_MAX_LINE + 1];
	size_t pos = 0;
	int ret = 0;

	if (!text && len)
		return -EINVAL;
	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		pos += n + (nl ? 1 : 0);
		ctx.line++;
		if (n > CPU_POLICY_MAX_LINE) {
			ret = parse_error(&ctx, "line longer than %d characters",
					  CPU_POLICY_MAX_LINE);
			break;
		}
		if (memchr(start, '\0', n)) {
			ret = parse_error(&ctx, "NUL byte in line");
			break;
		}
		memcpy(buf, start, n);
		buf[n] = '\0';
		ret = parse_line(&ctx, buf);
		if (ret)
			break;
	}
	if (ret) {
		/* All or nothing: drop what this call added. */
		cfg->nr_cpuid_edits = old_edits;
		cfg->nr_msr_rules = old_rules;
		cfg->pmu = old_pmu;
	}
	return ret;
}

int cpu_policy_load(struct cpu_policy_config *cfg, const char *path)
{
	uint8_t *data;
	size_t size;
	int ret;

	ret = read_file(path, CPU_POLICY_MAX_FILE_SIZE, &data, &size);
	if (ret)
		return ret;
	ret = cpu_policy_parse(cfg, (const char *)data, size, path);
	free(data);
	return ret;
}
