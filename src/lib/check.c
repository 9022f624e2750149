/* `airlock check`: what this host can enforce, found by trying it — a layer
 * is reported available only after it was actually applied here. */
#include "sandbox.h"
#include "tls_api.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct probe_out {
	bool ok;
	char note[256];
};

static void probe_userns(struct probe_out *o)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS |
					      CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD,
				   NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		snprintf(o->note, sizeof o->note, "clone: %s (user namespaces disabled?)", strerror(errno));
		return;
	}
	int st;
	waitpid(pid, &st, 0);
	o->ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	snprintf(o->note, sizeof o->note, "user, pid, mount, net, ipc, uts");
}

static void probe_landlock(struct probe_out *o)
{
	int abi = landlock_abi();
	o->ok = abi > 0;
	if (abi <= 0)
		snprintf(o->note, sizeof o->note, "not available (kernel < 5.13 or not in the lsm= list)");
	else
		snprintf(o->note, sizeof o->note, "ABI %d: filesystem%s%s", abi,
			 abi >= 4 ? ", TCP bind/connect" : " (no TCP rules: ABI < 4)",
			 abi >= 6 ? ", abstract-socket and signal scoping" : " (no scoping: ABI < 6)");
}

static void probe_seccomp(struct probe_out *o)
{
	o->ok = seccomp_notify_supported();
	snprintf(o->note, sizeof o->note, "%s", o->ok ? "filter + user notification (denials counted)"
						       : "no user notification: denials not counted");
}

static void probe_cgroup(enum al_layer which, struct probe_out *o)
{
	struct cgroup_status st = { 0 };
	cgroup_probe(&st);
	o->ok = which == AL_LAYER_CGROUP_MEMORY ? st.memory
		: which == AL_LAYER_CGROUP_PIDS ? st.pids : st.cpu;
	if (o->ok)
		snprintf(o->note, sizeof o->note, "cgroup %s", st.backend);
	else
		snprintf(o->note, sizeof o->note, "%s; %s", st.note,
			 which == AL_LAYER_CGROUP_MEMORY ? "fallback RLIMIT_AS"
			 : which == AL_LAYER_CGROUP_PIDS ? "fallback RLIMIT_NPROC" : "not enforced");
}

static void probe_mem(struct probe_out *o) { probe_cgroup(AL_LAYER_CGROUP_MEMORY, o); }
static void probe_pids(struct probe_out *o) { probe_cgroup(AL_LAYER_CGROUP_PIDS, o); }
static void probe_cpu(struct probe_out *o) { probe_cgroup(AL_LAYER_CGROUP_CPU, o); }

static void probe_idmap(struct probe_out *o)
{
	if (geteuid() != 0) {
		o->ok = true;
		snprintf(o->note, sizeof o->note, "not needed: files written belong to uid %u already",
			 (unsigned)geteuid());
		return;
	}
	struct idmap m;
	userns_plan(&m);
	m.host_uid = m.host_gid = 0x5fffffff;
	al_error err;
	al_error_clear(&err);
	_cleanup_close_ int dir = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = dir >= 0 ? userns_idmapped_mount(dir, 0, 0, &m, &err) : -1;
	o->ok = fd >= 0;
	if (fd >= 0)
		close(fd);
	snprintf(o->note, sizeof o->note, "%s", o->ok ? "files written to a host workspace belong to the caller" : err.msg);
}

/* A default sandbox (and with `gateway`, one with the egress gateway)
 * created, /bin/true run in it. */
static bool run_true(bool gateway, al_error *err)
{
	al_policy *p = al_policy_new();
	al_sandbox *sb = NULL;
	bool ok = false;
	if (!p) {
		al_err(err, ENOMEM, "out of memory");
		return false;
	}
	if ((!gateway || al_policy_set(p, "network.mode", "gateway", "check", err) == 0) &&
	    al_sandbox_create(p, &sb, err) == 0) {
		char *argv[] = { (char *)"true", NULL };
		al_exec ex = { .argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
		al_result res;
		ok = al_sandbox_exec(sb, &ex, &res, err) == 0 && res.exit_code == 0 && !res.net_gateway_died;
	}
	al_sandbox_destroy(sb);
	al_policy_free(p);
	return ok;
}

static void probe_full(struct probe_out *o)
{
	al_error err;
	al_error_clear(&err);
	o->ok = run_true(false, &err);
	snprintf(o->note, sizeof o->note, "%s", o->ok ? "default policy, /bin/true ran" : err.msg);
}

static void probe_gateway(struct probe_out *o)
{
	al_error err;
	al_error_clear(&err);
	o->ok = run_true(true, &err);
	if (!o->ok)
		snprintf(o->note, sizeof o->note, "%s", err.msg);
	else if (landlock_abi() >= 4)
		snprintf(o->note, sizeof o->note, "127.0.0.1:%d inside; Landlock allows TCP to that port only",
			 AL_GATEWAY_PORT);
	else
		snprintf(o->note, sizeof o->note, "127.0.0.1:%d inside; no Landlock TCP rules here (the "
			 "sandbox's own loopback is open to it; still no route out)", AL_GATEWAY_PORT);
}

/* Just-in-time credentials need the TLS module and a trust store to check
 * upstreams against: make a CA as a run would, and ready it. */
static void probe_credentials(struct probe_out *o)
{
	al_error err;
	al_error_clear(&err);
	const struct tls_api *tls = tls_load(&err);
	if (!tls) {
		snprintf(o->note, sizeof o->note, "%s", err.msg);
		return;
	}
	const char *names[] = { "check.invalid" };
	char why[256], *pem = NULL;
	struct tls_ca *ca = tls->ca_new(names, 1, "check", 3600, &pem, why, sizeof why);
	o->ok = ca && tls->ca_ready(ca, why, sizeof why) == 0;
	snprintf(o->note, sizeof o->note, "%s", o->ok ? "TLS module loaded; per-run CA and host trust store ready" : why);
	free(pem);
	tls->ca_free(ca);
}

static const struct {
	const char *name;
	void (*probe)(struct probe_out *o);
} rows[] = {
	{ "namespaces", probe_userns },
	{ "landlock", probe_landlock },
	{ "seccomp", probe_seccomp },
	{ "memory_limit", probe_mem },
	{ "pids_limit", probe_pids },
	{ "cpu_limit", probe_cpu },
	{ "idmapped_workspace", probe_idmap },
	{ "sandbox", probe_full },
	{ "egress_gateway", probe_gateway },
	{ "credentials", probe_credentials },
};

AL_API int al_check_host(FILE *out, bool json)
{
	int missing = 0;
	if (json)
		fputs("{\"layers\":{", out);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct probe_out o = { 0 };
		rows[i].probe(&o);
		missing += !o.ok;
		if (json) {
			fprintf(out, "%s\"%s\":{\"available\":%s,\"note\":", i ? "," : "", rows[i].name,
				o.ok ? "true" : "false");
			json_write_string(out, o.note);
			fputc('}', out);
		} else {
			fprintf(out, "%-8s %-20s %s\n", o.ok ? "ok" : "MISSING", rows[i].name, o.note);
		}
	}
	if (json)
		fprintf(out, "},\"missing\":%d}\n", missing);
	return missing;
}
