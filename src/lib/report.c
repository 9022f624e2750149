/* The run report: one JSON object per exec, for --report and later for the
 * audit stream. Field names are a contract (docs/report.md). */
#include "sandbox.h"

#include <stdio.h>
#include <string.h>

static const char *state_name(enum al_layer_state s)
{
	switch (s) {
	case AL_LAYER_APPLIED: return "applied";
	case AL_LAYER_UNAVAILABLE: return "unavailable";
	case AL_LAYER_NOT_NEEDED: return "not_needed";
	default: return "off";
	}
}

static void write_layers(const struct al_sandbox *sb, FILE *out)
{
	fputs("\"layers\":{", out);
	for (int i = 0; i < AL_LAYER_COUNT; i++) {
		if (i)
			fputc(',', out);
		json_write_string(out, al_layer_name((enum al_layer)i));
		fprintf(out, ":{\"state\":\"%s\"", state_name(sb->layers[i].state));
		if (sb->layers[i].note[0]) {
			fputs(",\"note\":", out);
			json_write_string(out, sb->layers[i].note);
		}
		fputc('}', out);
	}
	fputs("},\"unavailable\":[", out);
	bool first = true;
	for (int i = 0; i < AL_LAYER_COUNT; i++)
		if (sb->layers[i].state == AL_LAYER_UNAVAILABLE) {
			if (!first)
				fputc(',', out);
			first = false;
			json_write_string(out, al_layer_name((enum al_layer)i));
		}
	fputc(']', out);
}

/* What the output gate changed in what the command printed. */
static void write_gate(const al_result *res, FILE *out)
{
	if (!res->output_gated)
		return;
	fprintf(out, "\"output_gate\":{\"redactions_total\":%llu,\"redactions\":{",
		(unsigned long long)res->output_redactions);
	/* "name:n,name:n" -> {"name":n,...}: the names are the scanner's own */
	char copy[sizeof res->output_redacted];
	snprintf(copy, sizeof copy, "%s", res->output_redacted);
	bool first = true;
	for (char *save = NULL, *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':');
		if (!colon)
			continue;
		*colon = '\0';
		fputs(first ? "" : ",", out);
		json_write_string(out, item);
		fprintf(out, ":%s", colon + 1);
		first = false;
	}
	fprintf(out, "},\"flags\":%llu,\"flag_samples\":[", (unsigned long long)res->output_flags);
	for (size_t i = 0; i < res->n_output_flag_samples; i++) {
		fputs(i ? "," : "", out);
		json_write_string(out, res->output_flag_samples[i]);
	}
	fputs("]},", out);
}

/* What came out of the sandbox as files (al_sandbox_copy_out). */
static void write_copy_out(const al_result *res, FILE *out)
{
	const al_copy_result *c = &res->copy_out;
	if (!c->ran)
		return;
	fprintf(out, "\"copy_out\":{\"files\":%llu,\"bytes\":%llu,\"redactions\":%llu,\"skipped\":%llu,"
		"\"truncated\":%llu,\"errors\":%llu},", (unsigned long long)c->files, (unsigned long long)c->bytes,
		(unsigned long long)c->redactions, (unsigned long long)c->skipped, (unsigned long long)c->truncated,
		(unsigned long long)c->errors);
}

/* What the egress gateway decided during this exec, one event a request. */
static void write_network(const struct al_sandbox *sb, const al_result *res, FILE *out)
{
	if (sb->pol.net_mode != AL_NET_GATEWAY) {
		fputs("\"network\":{\"mode\":\"none\"},", out);
		return;
	}
	fprintf(out, "\"network\":{\"mode\":\"gateway\",\"proxy\":\"127.0.0.1:%d\",\"gateway\":\"%s\"",
		AL_GATEWAY_PORT, res->net_gateway_died ? "died" : "running");
	fprintf(out, ",\"allowed\":%llu,\"denied\":%llu,\"bytes_up\":%llu,\"bytes_down\":%llu,"
		"\"events_dropped\":%llu,\"events\":[",
		(unsigned long long)res->net_allowed, (unsigned long long)res->net_denied,
		(unsigned long long)res->net_bytes_up, (unsigned long long)res->net_bytes_down,
		(unsigned long long)res->net_events_dropped);
	gwproc_write_events(sb, out);
	fputs("]},", out);
}

AL_API int al_sandbox_write_report(const al_sandbox *sb, const al_result *res, FILE *out)
{
	/* Hashed here, not at create: SHA-256 through OpenSSL's provider
	 * machinery costs most of a millisecond that a run without a report
	 * should not pay. */
	char digest[65];
	al_policy_digest(&sb->pol, digest);
	fputs("{\"version\":1,\"policy_digest\":", out);
	json_write_string(out, digest);
	fprintf(out, ",\"exit_reason\":\"%s\",\"exit_status\":%d,\"term_signal\":%d,\"exit_code\":%d",
		al_exit_reason_name(res->reason), res->exit_status, res->term_signal, res->exit_code);
	if (res->exec_error[0]) {
		fputs(",\"exec_error\":", out);
		json_write_string(out, res->exec_error);
	}
	fprintf(out, ",\"wall_ms\":%.3f,\"cpu_user_ms\":%.3f,\"cpu_sys_ms\":%.3f",
		(double)res->wall_us / 1000.0, (double)res->cpu_user_us / 1000.0,
		(double)res->cpu_sys_us / 1000.0);
	fprintf(out, ",\"peak_memory_bytes\":%llu,\"peak_pids\":%llu,\"output_bytes\":%llu",
		(unsigned long long)res->peak_memory_bytes, (unsigned long long)res->peak_pids,
		(unsigned long long)res->output_bytes);
	fprintf(out, ",\"stdout_truncated\":%s,\"stderr_truncated\":%s", res->stdout_truncated ? "true" : "false",
		res->stderr_truncated ? "true" : "false");
	fprintf(out, ",\"output_dropped\":%s,\"oom_kill\":%s", res->output_dropped ? "true" : "false",
		res->oom_kill ? "true" : "false");
	fprintf(out, ",\"denied_syscalls_total\":%llu,\"denied_syscalls\":{",
		(unsigned long long)res->denied_total);
	for (size_t i = 0; i < res->n_denied; i++) {
		if (i)
			fputc(',', out);
		json_write_string(out, res->denied[i].name);
		fprintf(out, ":%llu", (unsigned long long)res->denied[i].count);
	}
	fputs("},", out);
	write_network(sb, res, out);
	write_gate(res, out);
	write_copy_out(res, out);
	if (sb->audit)
		fprintf(out, "\"audit_errors\":%u,", res->audit_errors);
	fprintf(out, "\"sandbox_host_uid\":%u,", (unsigned)sb->idm.host_uid);
	write_layers(sb, out);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}

AL_API int al_sandbox_unavailable(const al_sandbox *sb, char *buf, size_t len)
{
	int n = 0;
	size_t used = 0;
	if (len)
		buf[0] = '\0';
	for (int i = 0; i < AL_LAYER_COUNT; i++) {
		if (sb->layers[i].state != AL_LAYER_UNAVAILABLE)
			continue;
		if (len > used) {
			int w = snprintf(buf + used, len - used, "%s%s (%s)", n ? "; " : "",
					 al_layer_name((enum al_layer)i), sb->layers[i].note);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}
