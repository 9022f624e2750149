/* libcrypto, loaded on first use.
 *
 * Linked normally, OpenSSL's relocations cost every airlock process about a
 * millisecond at start-up (measured: bench/startup and `airlock --version`),
 * a fifth of a whole sandboxed run — yet only a report or `policy show` needs
 * a digest. So the library is opened with dlopen when a digest is first
 * asked for, by the soname these headers belong to. */
#include "internal.h"

#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <stdio.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBCRYPTO_SONAME "libcrypto.so." STR(OPENSSL_SHLIB_VERSION)

struct crypto_api {
	EVP_MD_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_MD_CTX *);
	const EVP_MD *(*sha256)(void);
	int (*init)(EVP_MD_CTX *, const EVP_MD *, ENGINE *);
	int (*update)(EVP_MD_CTX *, const void *, size_t);
	int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
};

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static struct crypto_api crypto;
static bool crypto_ok;

static void crypto_load(void)
{
	void *h = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	*(void **)&crypto.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&crypto.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&crypto.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&crypto.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&crypto.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&crypto.final = dlsym(h, "EVP_DigestFinal_ex");
	crypto_ok = crypto.ctx_new && crypto.ctx_free && crypto.sha256 && crypto.init &&
		    crypto.update && crypto.final;
}

static ssize_t sha256_write(void *cookie, const char *buf, size_t len)
{
	return crypto.update(cookie, buf, len) ? (ssize_t)len : -1;
}

int sha256_of(int (*produce)(const void *arg, FILE *out), const void *arg, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	int r = -1;
	hex[0] = '\0';
	pthread_once(&crypto_once, crypto_load);
	if (!crypto_ok)
		return -1;
	EVP_MD_CTX *ctx = crypto.ctx_new();
	FILE *f = NULL;
	if (!ctx || !crypto.init(ctx, crypto.sha256(), NULL) ||
	    !(f = fopencookie(ctx, "w", (cookie_io_functions_t){ .write = sha256_write })))
		goto out;
	int produced = produce(arg, f);
	if (fclose(f) != 0 || produced < 0 || !crypto.final(ctx, md, &md_len) || md_len != 32)
		goto out;
	for (unsigned i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	r = 0;
out:
	if (ctx)
		crypto.ctx_free(ctx);
	return r;
}
