/* The error convention: see docs/errors.md. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void al_error_clear(al_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->exit_code = 125;
	err->msg[0] = '\0';
}

static void __attribute__((format(printf, 4, 0)))
vset(al_error *err, int errnum, bool with_strerror, const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->code = errnum;
	if (err->exit_code == 0)
		err->exit_code = 125;
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (with_strerror && n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
}

int al_err(al_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, errnum, false, fmt, ap);
	va_end(ap);
	return -1;
}

int al_errno(al_error *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vset(err, saved, true, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int al_error_wrap(al_error *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char ctx[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	char old[sizeof err->msg];
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", ctx, old);
	return -1;
}
