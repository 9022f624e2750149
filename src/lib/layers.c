#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const layer_names[AL_LAYER_COUNT] = {
	[AL_LAYER_USERNS] = "user_namespace",
	[AL_LAYER_PIDNS] = "pid_namespace",
	[AL_LAYER_MOUNTNS] = "mount_namespace",
	[AL_LAYER_IPCNS] = "ipc_namespace",
	[AL_LAYER_UTSNS] = "uts_namespace",
	[AL_LAYER_CGROUPNS] = "cgroup_namespace",
	[AL_LAYER_NETNS] = "network_namespace",
	[AL_LAYER_FILESYSTEM] = "filesystem",
	[AL_LAYER_IDMAP] = "idmapped_workspace",
	[AL_LAYER_LANDLOCK] = "landlock",
	[AL_LAYER_CAPS] = "capabilities_dropped",
	[AL_LAYER_NO_NEW_PRIVS] = "no_new_privs",
	[AL_LAYER_SECCOMP] = "seccomp",
	[AL_LAYER_SECCOMP_NOTIFY] = "seccomp_denial_counting",
	[AL_LAYER_CGROUP_MEMORY] = "memory_limit",
	[AL_LAYER_CGROUP_PIDS] = "pids_limit",
	[AL_LAYER_CGROUP_CPU] = "cpu_limit",
	[AL_LAYER_RLIMITS] = "rlimits",
	[AL_LAYER_TIMEOUT] = "timeout",
};

const char *al_layer_name(enum al_layer l)
{
	return (unsigned)l < AL_LAYER_COUNT ? layer_names[l] : "unknown";
}

void layer_set(struct al_layer_status *ls, enum al_layer l, enum al_layer_state s,
	       const char *fmt, ...)
{
	ls[l].state = s;
	ls[l].note[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ls[l].note, sizeof ls[l].note, fmt, ap);
		va_end(ap);
	}
}

AL_API const char *al_version(void)
{
	return AIRLOCK_VERSION;
}
