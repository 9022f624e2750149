/* Opening the TLS module (tls_api.h) on first use.
 *
 * The module runs inside the gateway with the run's secrets, so it is only
 * taken from where this build put it, and only if nobody but root or us
 * could have written it. The file is checked through an fd and loaded
 * through /proc/self/fd, so the file checked is the file loaded. */
#include "internal.h"
#include "tls_api.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#if !defined(AIRLOCK_MODULE_DIR) || !defined(AIRLOCK_BUILD_ROOT)
#error "meson.build defines AIRLOCK_MODULE_DIR and AIRLOCK_BUILD_ROOT"
#endif

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static const struct tls_api *tls_api_loaded;
static char tls_why[3000]; /* "path: reason; path: reason" of each failed try */

static void why_add(const char *path, const char *reason)
{
	size_t n = strlen(tls_why);
	snprintf(tls_why + n, sizeof tls_why - n, "%s%s: %s", n ? "; " : "", path, reason);
}

/* The canonical path of the object tls_load is in: libairlock.so, or the
 * executable that linked it statically (whose link map has no name). */
static bool self_object(char out[PATH_MAX])
{
	Dl_info info;
	struct link_map *lm = NULL;
	if (!dladdr1((void *)tls_load, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return false;
	return realpath(lm->l_name[0] ? lm->l_name : "/proc/self/exe", out) != NULL;
}

static bool path_under(const char *path, const char *root)
{
	char r[PATH_MAX];
	if (!realpath(root, r))
		return false;
	size_t n = strlen(r);
	return strncmp(path, r, n) == 0 && path[n] == '/';
}

/* Refuse what someone else could have replaced. */
static const char *file_refused(const struct stat *st)
{
	static char why[64];
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, sizeof why, "owned by uid %u, neither root nor us", (unsigned)st->st_uid);
		return why;
	}
	return NULL;
}

static const struct tls_api *try_dir(const char *dir)
{
	char path[PATH_MAX + 32], reason[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, AIRLOCK_TLS_MODULE);
	/* O_NONBLOCK: a FIFO planted there must not hang us */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		why_add(path, errno == ELOOP ? "a symbolic link" : strerror(errno));
		return NULL;
	}
	struct stat st;
	const char *refused = fstat(fd, &st) < 0 ? strerror(errno) : file_refused(&st);
	if (refused) {
		why_add(path, refused);
		close(fd);
		return NULL;
	}
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	void *h = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	close(fd); /* the mapping keeps the file */
	if (!h) {
		snprintf(reason, sizeof reason, "%s", dlerror());
		why_add(path, reason);
		return NULL;
	}
	tls_api_fn *entry;
	*(void **)&entry = dlsym(h, AIRLOCK_TLS_ENTRY);
	const struct tls_api *api = entry ? entry() : NULL;
	if (!api || api->version != AIRLOCK_TLS_API_VERSION) {
		snprintf(reason, sizeof reason, "not an airlock TLS module of API version %d",
			 AIRLOCK_TLS_API_VERSION);
		why_add(path, reason);
		dlclose(h);
		return NULL;
	}
	return api;
}

/* From beside the object we are in; then, from an uninstalled build's own
 * programs (tests), that build's root, before the install directory, which
 * may hold an older build's module; then the install directory. */
static void tls_open(void)
{
	char self[PATH_MAX], dir[PATH_MAX];
	const char *dirs[3];
	size_t n = 0;
	if (self_object(self)) {
		snprintf(dir, sizeof dir, "%s", self);
		*strrchr(dir, '/') = '\0';
		dirs[n++] = dir[0] ? dir : "/";
		if (path_under(self, AIRLOCK_BUILD_ROOT))
			dirs[n++] = AIRLOCK_BUILD_ROOT;
	}
	dirs[n++] = AIRLOCK_MODULE_DIR;
	for (size_t i = 0; i < n && !tls_api_loaded; i++) {
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(dirs[i], dirs[j]) == 0;
		if (!seen)
			tls_api_loaded = try_dir(dirs[i]);
	}
}

const struct tls_api *tls_load(struct al_error *err)
{
	pthread_once(&tls_once, tls_open);
	if (!tls_api_loaded)
		al_err(err, ENOENT, "cannot load the TLS module (needed for credentials): %s", tls_why);
	return tls_api_loaded;
}
