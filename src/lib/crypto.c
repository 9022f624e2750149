/* SHA-256 for the policy digest, from Nettle, loaded on first use.
 *
 * Every audited run and every report carries the policy's digest, so the
 * first digest of a process is on the hot path: opening libcrypto and
 * initialising OpenSSL cost ~2 ms here (a quarter of a sandboxed run),
 * Nettle ~0.25 ms. Linking it normally would put its relocations on every
 * airlock start, digest or not, so it is opened with dlopen, by the soname
 * these headers belong to, when a digest is first asked for. */
#include "internal.h"

#include <dlfcn.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>

#define LIBNETTLE_SONAME "libnettle.so.8"

struct crypto_api {
	void (*init)(struct sha256_ctx *);
	void (*update)(struct sha256_ctx *, size_t, const uint8_t *);
	void (*digest)(struct sha256_ctx *, size_t, uint8_t *);
};

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static struct crypto_api crypto;
static bool crypto_ok;

static void crypto_load(void)
{
	void *h = dlopen(LIBNETTLE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	*(void **)&crypto.init = dlsym(h, "nettle_sha256_init");
	*(void **)&crypto.update = dlsym(h, "nettle_sha256_update");
	*(void **)&crypto.digest = dlsym(h, "nettle_sha256_digest");
	crypto_ok = crypto.init && crypto.update && crypto.digest;
}

static ssize_t sha256_write(void *cookie, const char *buf, size_t len)
{
	crypto.update(cookie, len, (const uint8_t *)buf);
	return (ssize_t)len;
}

int sha256_of(int (*produce)(const void *arg, FILE *out), const void *arg, char hex[65])
{
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	hex[0] = '\0';
	pthread_once(&crypto_once, crypto_load);
	if (!crypto_ok)
		return -1;
	crypto.init(&ctx);
	FILE *f = fopencookie(&ctx, "w", (cookie_io_functions_t){ .write = sha256_write });
	if (!f)
		return -1;
	int produced = produce(arg, f);
	if (fclose(f) != 0 || produced < 0)
		return -1;
	crypto.digest(&ctx, sizeof md, md);
	for (unsigned i = 0; i < sizeof md; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
