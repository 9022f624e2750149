/* Reading the audit log (src/lib/audit_read.c): one event per JSON line of
 * every type, lines that are not events skipped and counted (not fatal),
 * unknown fields and types tolerated, the filters and -n of `tail`, output
 * that cannot drive a terminal, and the per-agent counts of `summary`,
 * including a run that started and never ended. */
#include "check.h"
#include "audit_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define T0 "\"v\":1,\"time\":\"2026-11-23T14:02:03.123Z\""
#define BB "\"agent\":\"billing-bot\""
#define R1 "\"run\":\"3f2a000000000001\""

/* billing-bot run 1: every event type; the run fails with 4 violations and
 * trips the breaker. */
static const char run1[] =
	"{" T0 "," R1 "," BB ",\"event\":\"run_start\",\"policy_digest\":\"ab12\","
	"\"command\":[\"python3\",\"job.py\"],\"cwd\":\"/workspace\",\"user\":1000,"
	"\"layers\":[\"userns\",\"seccomp\"],\"unavailable\":[{\"layer\":\"landlock\",\"note\":\"kernel\"}]}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:04.000Z\"," R1 "," BB ",\"event\":\"egress\",\"proto\":\"connect\","
	"\"host\":\"api.evil.com\",\"port\":443,\"address\":\"\",\"verdict\":\"deny\",\"rule\":\"default deny\","
	"\"reason\":\"not allowed\",\"status\":403,\"bytes_up\":0,\"bytes_down\":0,\"duration_ms\":0.25}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:05.000Z\"," R1 "," BB ",\"event\":\"syscall_denied\","
	"\"syscall\":\"ptrace\",\"count\":3}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:05.001Z\"," R1 "," BB ",\"event\":\"file_changes\","
	"\"created\":[{\"path\":\"a\",\"size\":1},{\"path\":\"b\",\"size\":2}],"
	"\"modified\":[{\"path\":\"c\",\"size\":3}],\"deleted\":[]}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:05.002Z\"," R1 "," BB ",\"event\":\"resource_peak\","
	"\"memory_bytes\":125829120,\"memory_limit\":536870912,\"pids\":4,\"pids_limit\":64,"
	"\"cpu_user_ms\":1200,\"cpu_sys_ms\":100,\"wall_ms\":3400,\"output_bytes\":0,"
	"\"read_bytes\":0,\"write_bytes\":0}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:05.003Z\"," R1 "," BB ",\"event\":\"run_end\","
	"\"exit_reason\":\"exited\",\"exit_code\":1,\"exit_status\":1,\"term_signal\":0,"
	"\"violations\":4,\"failed\":true}\n"
	"{\"v\":1,\"time\":\"2026-11-23T14:02:05.004Z\"," R1 "," BB ",\"event\":\"breaker\","
	"\"state\":\"tripped\",\"violations\":5,\"failures\":1,\"until\":\"2026-11-23T15:30:00Z\"}\n";

/* ci-bot: one clean run, an allowed request, and a run refused by the
 * breaker. billing-bot run 3 is newer (v 2, a field we do not know) and has
 * no run_end: killed mid-run. Then an event type we do not know. */
static const char run2[] =
	"{\"v\":1,\"time\":\"2026-11-23T13:00:00.000Z\",\"run\":\"00000000000000c2\",\"agent\":\"ci-bot\","
	"\"event\":\"run_start\",\"command\":[\"make\",\"test\"]}\n"
	"{\"v\":1,\"time\":\"2026-11-23T13:00:01.000Z\",\"run\":\"00000000000000c2\",\"agent\":\"ci-bot\","
	"\"event\":\"egress\",\"host\":\"pypi.org\",\"port\":443,\"verdict\":\"allow\",\"rule\":\"pypi.org:443\"}\n"
	"{\"v\":1,\"time\":\"2026-11-23T13:00:02.000Z\",\"run\":\"00000000000000c2\",\"agent\":\"ci-bot\","
	"\"event\":\"run_end\",\"exit_reason\":\"exited\",\"exit_code\":0,\"violations\":0,\"failed\":false}\n"
	"{\"v\":1,\"time\":\"2026-11-23T13:10:00.000Z\",\"run\":\"00000000000000c3\",\"agent\":\"ci-bot\","
	"\"event\":\"breaker\",\"state\":\"refused\",\"violations\":5,\"failures\":0,\"until\":\"x\"}\n"
	"\n"
	"{\"v\":2,\"time\":\"2026-11-23T16:00:00.000Z\",\"run\":\"3f2a000000000003\"," BB ","
	"\"event\":\"run_start\",\"command\":[\"python3\",\"-c\",\"print('hi there')\"],"
	"\"sandbox\":{\"kind\":\"new\",\"tags\":[1,2.5e3,null,true]}}\n"
	"{\"v\":1,\"time\":\"2026-11-23T16:00:01.000Z\",\"run\":\"3f2a000000000003\"," BB ","
	"\"event\":\"checkpoint\",\"seq\":1}\n";

/* Not audit events: each counted once. */
static const char *const garbage[] = {
	"not json at all",
	"{broken",
	"[1,2,3]",
	"\"a string\"",
	"{\"v\":1}",					/* no event */
	"{\"event\":\"run_start\"}",			/* no v */
	"{\"v\":\"1\",\"event\":\"run_start\"}",	/* v is not a number */
	"{\"v\":0,\"event\":\"run_start\"}",		/* no such version */
	"{v: 1, event: run_start}",			/* YAML, not JSON */
	"{\"v\":1,\"event\":'run_start'}",		/* single quotes */
	"{\"v\":1,\"event\":\"run_end\",\"x\":yes}",	/* a bare word */
	"{\"v\":1,\"event\":\"run_end\"} trailing",
	"{\"v\":1,\"event\":\"run_end\"} {\"v\":1,\"event\":\"run_end\"}",
	"{\"v\":1,\"event\":\"run_end\"} # comment",
	"{\"v\":1,\"event\":\"run_end\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	"{\"v\":1,\"event\":\"run_end\",\"x\":\"\xff\"}",	/* not UTF-8 */
	"{\"v\":1,\"event\":\"run_end\",\"x\":\"a\tb\"}",	/* a raw tab in a string */
	"{\"v\":1,\"event\":\"run_end\",\"x\":[1,]}",		/* trailing commas */
	"{\"v\":1,\"event\":\"run_end\", }",
	"{\"v\":1,\"event\":\"run_end\",\"x\":\"\\x41\\e\"}",	/* YAML's escapes */
	"{\"v\":1,\"event\":\"run_end\",\"x\":&a 1,\"y\":*a}",	/* a YAML alias */
	"{\"v\":1,\"event\":\"run_end\",\"x\":!!int \"5\"}",	/* a YAML tag */
};
#define N_GARBAGE (sizeof garbage / sizeof garbage[0])

static char *log_text(bool with_garbage)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fputs(run1, f);
	for (size_t i = 0; with_garbage && i < N_GARBAGE; i++)
		fprintf(f, "%s\n", garbage[i]);
	fputs(run2, f);
	fclose(f);
	return buf;
}

struct outcome {
	int ret;
	char *out;
	al_error err;
};

static struct outcome run_reader(const char *log, bool summary, const struct audit_filter *f, bool json,
				 size_t last_n)
{
	struct outcome o = { 0 };
	size_t len = 0;
	FILE *in = fmemopen((void *)log, strlen(log), "r");
	FILE *out = open_memstream(&o.out, &len);
	al_error_clear(&o.err);
	o.ret = summary ? audit_summary(in, out, f, json, &o.err)
			: audit_tail(in, out, f, json, last_n, &o.err);
	fclose(out);
	fclose(in);
	return o;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* After a failed check: what was printed, as TAP comment lines. */
static void diagnose(bool passed, const char *out)
{
	if (passed)
		return;
	for (const char *l = out; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != '\0'))
		printf("# %.*s\n", (int)strcspn(l, "\n"), l);
}

static void test_parse(void)
{
	struct audit_event ev;
	const char *l = strchr(run1, '\n') + 1; /* the egress event */
	size_t len = (size_t)(strchr(l, '\n') - l);
	int r = audit_event_parse(l, len, &ev);
	CHECK(r == 0, "an egress line parses (got %d)", r);
	CHECK(ev.v == 1 && strcmp(ev.event, "egress") == 0, "v and event");
	CHECK(strcmp(ev.agent, "billing-bot") == 0 && strcmp(ev.run, "3f2a000000000001") == 0, "agent and run");
	CHECK(strcmp(ev.host, "api.evil.com") == 0 && ev.port == 443, "host and port");
	CHECK(strcmp(ev.verdict, "deny") == 0 && strcmp(ev.rule, "default deny") == 0, "verdict and rule");
	CHECK(*ev.syscall == '\0' && *ev.exit_reason == '\0', "fields of other types are empty, not NULL");
	audit_event_clear(&ev);

	const char *future = "{\"v\":7,\"event\":\"run_end\",\"exit_code\":\"soon\",\"violations\":-1,"
			     "\"new\":{\"deep\":[{\"x\":1}]},\"failed\":true}";
	r = audit_event_parse(future, strlen(future), &ev);
	CHECK(r == 0, "a newer version with unknown fields parses");
	CHECK(ev.v == 7 && ev.failed, "its known fields are read");
	CHECK(ev.exit_code == 0 && ev.violations == 0, "values of the wrong type are ignored");
	CHECK(*ev.time == '\0' && *ev.agent == '\0', "missing common fields are empty");
	audit_event_clear(&ev);

	const char *nul = "{\"v\":1,\"event\":\"run_start\",\"command\":[\"ok\\u0000rm -rf /\"]}";
	r = audit_event_parse(nul, strlen(nul), &ev);
	CHECK(r == 0 && ev.command.n == 1 && strcmp(ev.command.v[0], "ok?rm -rf /") == 0,
	      "a NUL in a string cannot hide what follows it");
	audit_event_clear(&ev);

	const char *astral = "{\"v\":1,\"event\":\"egress\",\"host\":\"\\ud83d\\udd12.example\\\\ud83d\"}";
	r = audit_event_parse(astral, strlen(astral), &ev);
	CHECK(r == 0 && strcmp(ev.host, "\xf0\x9f\x94\x92.example\\ud83d") == 0,
	      "a JSON surrogate pair is one character; an escaped backslash is not an escape (%s)", ev.host);
	audit_event_clear(&ev);

	const char *lone = "{\"v\":1,\"event\":\"egress\",\"host\":\"a\\udd12b\\ud83d\"}";
	r = audit_event_parse(lone, strlen(lone), &ev);
	CHECK(r == 0 && strcmp(ev.host, "a\xef\xbf\xbd" "b\xef\xbf\xbd") == 0,
	      "a lone surrogate is U+FFFD, not a lost line");
	audit_event_clear(&ev);

	const char *spaced = "  {\"v\": 1, \"event\": \"run_end\" ,\t\"failed\": false}  \r";
	CHECK(audit_event_parse(spaced, strlen(spaced), &ev) == 0, "JSON whitespace is fine");
	audit_event_clear(&ev);

	for (size_t i = 0; i < N_GARBAGE; i++) {
		r = audit_event_parse(garbage[i], strlen(garbage[i]), &ev);
		CHECK(r == 1 && ev.doc == NULL, "not an audit event: %s", garbage[i]);
	}
}

static void test_tail(void)
{
	_cleanup_free_ char *log = log_text(true);
	struct outcome o = run_reader(log, false, NULL, false, 0);

	CHECK(o.ret == (int)N_GARBAGE, "every line that is not an event is skipped and counted (%d)", o.ret);
	CHECK(count_lines(o.out) == 13, "one line per event, blank lines ignored (%zu)", count_lines(o.out));
	CHECK(has_line(o.out, "2026-11-23T14:02:03.123Z billing-bot 3f2a000000000001 run_start      python3 job.py"),
	      "run_start: the command");
	CHECK(has_line(o.out, "2026-11-23T14:02:04.000Z billing-bot 3f2a000000000001 egress         "
			      "deny api.evil.com:443 (default deny)"),
	      "egress: verdict host:port (rule)");
	CHECK(has_line(o.out, "2026-11-23T14:02:05.000Z billing-bot 3f2a000000000001 syscall_denied "
			      "ptrace refused 3 times"),
	      "syscall_denied: name and count");
	CHECK(has_line(o.out, "2026-11-23T14:02:05.001Z billing-bot 3f2a000000000001 file_changes   "
			      "2 created, 1 modified, 0 deleted"),
	      "file_changes: counts");
	CHECK(has_line(o.out, "2026-11-23T14:02:05.002Z billing-bot 3f2a000000000001 resource_peak  "
			      "memory 120M of 512M, pids 4 of 64, cpu 1.30s, wall 3.40s"),
	      "resource_peak: memory, pids, cpu, wall");
	CHECK(has_line(o.out, "2026-11-23T14:02:05.003Z billing-bot 3f2a000000000001 run_end        "
			      "exited 1, 4 violations, failed"),
	      "run_end: reason, code, violations, failed");
	CHECK(has_line(o.out, "2026-11-23T14:02:05.004Z billing-bot 3f2a000000000001 breaker        "
			      "tripped: 5 violations, 1 failure, until 2026-11-23T15:30:00Z"),
	      "breaker: state and until");
	CHECK(has_line(o.out, "2026-11-23T13:00:02.000Z ci-bot 00000000000000c2 run_end        "
			      "exited 0, 0 violations"),
	      "a clean run_end");
	CHECK(has_line(o.out, "2026-11-23T16:00:00.000Z billing-bot 3f2a000000000003 run_start      "
			      "python3 -c 'print('\\''hi there'\\'')'"),
	      "arguments are quoted as a shell would need");
	CHECK(has_line(o.out, "2026-11-23T16:00:01.000Z billing-bot 3f2a000000000003 checkpoint"),
	      "an unknown event type: its name alone");
	free(o.out);

	o = run_reader(log, false, NULL, true, 0);
	_cleanup_free_ char *events = NULL;
	size_t elen = 0;
	FILE *f = open_memstream(&events, &elen);
	fputs(run1, f);
	for (const char *p = run2; *p; p++) /* run2 without its blank line */
		if (!(*p == '\n' && p[1] == '\n'))
			fputc(*p, f);
	fclose(f);
	CHECK(o.ret == (int)N_GARBAGE && strcmp(o.out, events) == 0, "--json passes the event lines through unchanged");
	free(o.out);

	struct audit_filter by_agent = { .agent = "ci-bot" };
	o = run_reader(log, false, &by_agent, false, 0);
	CHECK(count_lines(o.out) == 4 && !strstr(o.out, "billing-bot"), "--agent keeps that agent's events");
	free(o.out);

	struct audit_filter by_run = { .run = "3f2a000000000003" };
	o = run_reader(log, false, &by_run, true, 0);
	CHECK(count_lines(o.out) == 2 && strstr(o.out, "\"checkpoint\""), "--run keeps that run's events");
	free(o.out);

	struct audit_filter none = { .agent = "nobody" };
	o = run_reader(log, false, &none, false, 0);
	CHECK(o.ret == (int)N_GARBAGE && *o.out == '\0', "a filter matching nothing prints nothing");
	free(o.out);

	o = run_reader(log, false, NULL, false, 2);
	CHECK(count_lines(o.out) == 2 && strstr(o.out, " run_start ") && strstr(o.out, " checkpoint\n"),
	      "-n 2: the last two events, in order");
	CHECK(strstr(o.out, "run_start") < strstr(o.out, "checkpoint"), "-n keeps the log's order");
	free(o.out);

	o = run_reader(log, false, &by_agent, true, 1);
	CHECK(count_lines(o.out) == 1 && strstr(o.out, "\"refused\""), "-n applies after the filter");
	free(o.out);

	o = run_reader(log, false, NULL, false, 1000000);
	CHECK(count_lines(o.out) == 13, "-n larger than the log: everything");
	free(o.out);

	o = run_reader("{\"v\":1,\"event\":\"run_end\",\"exit_code\":0}", false, NULL, true, 0);
	CHECK(strcmp(o.out, "{\"v\":1,\"event\":\"run_end\",\"exit_code\":0}\n") == 0,
	      "a last line without a newline gets one");
	free(o.out);

	o = run_reader("", false, NULL, false, 0);
	CHECK(o.ret == 0 && *o.out == '\0', "an empty log: nothing, nothing skipped");
	free(o.out);
}

static void test_terminal_safety(void)
{
	const char *log =
		"{\"v\":1,\"time\":\"t\",\"run\":\"r\",\"agent\":\"a\\u001b]0;owned\\u0007\",\"event\":\"run_start\","
		"\"command\":[\"sh\",\"-c\",\"echo \\u001b[31mred\\u001b[0m\\r\\n\\u009b2J\"]}\n"
		"{\"v\":1,\"time\":\"t\",\"run\":\"r\",\"agent\":\"a\",\"event\":\"egress\","
		"\"host\":\"evil\\u001b[2J.com\\u202egnp.exe\",\"port\":80,\"verdict\":\"deny\","
		"\"rule\":\"x\\u007fy\"}\n"
		"{\"v\":1,\"time\":\"t\",\"run\":\"r\",\"agent\":\"a\",\"event\":\"x\\u001b[1Ay\"}\n";
	struct outcome o = run_reader(log, false, NULL, false, 0);
	bool clean = true;
	for (const unsigned char *p = (const unsigned char *)o.out; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
			clean = false;
	CHECK(clean, "no control character, C1 or bidi override reaches the terminal");
	CHECK(count_lines(o.out) == 3, "an embedded CR/LF does not forge a line");
	CHECK(strstr(o.out, "t a?]0;owned? r run_start      sh -c 'echo ?[31mred?[0m???2J'\n") != NULL,
	      "escapes in agent and command become '?'");
	CHECK(strstr(o.out, "deny evil?[2J.com?gnp.exe:80 (x?y)\n") != NULL, "escapes in host and rule become '?'");
	CHECK(strstr(o.out, " x?[1Ay\n") != NULL, "escapes in an unknown event name become '?'");
	free(o.out);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	size_t cols = audit_put_safe(f, "caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80 \xf0\x9f\x94\x92");
	fclose(f);
	CHECK(strcmp(buf, "caf\xc3\xa9 ??? ??? \xf0\x9f\x94\x92") == 0 && cols == 14,
	      "UTF-8 passes, bytes that are not UTF-8 become '?' (%s, %zu columns)", buf, cols);
	free(buf);
}

static void test_summary(void)
{
	_cleanup_free_ char *log = log_text(true);
	struct outcome o = run_reader(log, true, NULL, true, 0);
	const char *want =
		"{\"agents\":["
		"{\"agent\":\"billing-bot\",\"runs\":2,\"unfinished\":1,\"failures\":1,\"violations\":4,"
		"\"egress_denied\":1,\"syscalls_refused\":3,\"breaker_trips\":1,"
		"\"first_run\":\"2026-11-23T14:02:03.123Z\",\"last_run\":\"2026-11-23T16:00:00.000Z\"},"
		"{\"agent\":\"ci-bot\",\"runs\":1,\"unfinished\":0,\"failures\":0,\"violations\":0,"
		"\"egress_denied\":0,\"syscalls_refused\":0,\"breaker_trips\":0,"
		"\"first_run\":\"2026-11-23T13:00:00.000Z\",\"last_run\":\"2026-11-23T13:00:00.000Z\"}"
		"]}\n";
	CHECK(o.ret == (int)N_GARBAGE, "summary counts skipped lines too (%d)", o.ret);
	CHECK(strcmp(o.out, want) == 0, "summary --json: every count, a run without run_end unfinished");
	diagnose(strcmp(o.out, want) == 0, o.out);
	free(o.out);

	o = run_reader(log, true, NULL, false, 0);
	CHECK(count_lines(o.out) == 3, "the table: a header and a row per agent");
	CHECK(strncmp(o.out, "agent        runs  unfinished  failures  violations  egress denied  "
			     "syscalls refused  breaker trips  first run                 last run\n",
		      strlen("agent        runs")) == 0,
	      "the header");
	bool lined_up = strstr(o.out, "\nbilling-bot     2           1         1           4              1  "
				     "               3              1  2026-11-23T14:02:03.123Z  "
				     "2026-11-23T16:00:00.000Z\n") != NULL;
	CHECK(lined_up, "billing-bot's row lines up");
	diagnose(lined_up, o.out);
	free(o.out);

	struct audit_filter by_agent = { .agent = "ci-bot" };
	o = run_reader(log, true, &by_agent, true, 0);
	CHECK(strstr(o.out, "\"ci-bot\"") && !strstr(o.out, "billing-bot"), "summary --agent");
	free(o.out);

	o = run_reader("{\"v\":1,\"event\":\"breaker\",\"agent\":\"\\u001b[2J\",\"state\":\"tripped\"}\n", true,
		       NULL, false, 0);
	bool no_times = strstr(o.out, "\n?[2J ") && strstr(o.out, "  -  ") && strstr(o.out, "  -\n");
	CHECK(no_times, "an agent with no run: no times; its name made safe");
	diagnose(no_times, o.out);
	free(o.out);
	o = run_reader("{\"v\":1,\"event\":\"breaker\",\"agent\":\"\\u001b[2J\",\"state\":\"tripped\"}\n", true,
		       NULL, true, 0);
	CHECK(strstr(o.out, "\"agent\":\"\\u001b[2J\"") && strstr(o.out, "\"first_run\":null"),
	      "in JSON the name is escaped and a missing time is null");
	free(o.out);

	o = run_reader("garbage\n", true, NULL, true, 0);
	CHECK(o.ret == 1 && strcmp(o.out, "{\"agents\":[]}\n") == 0, "no events: an empty list");
	free(o.out);
}

static void test_read_error(void)
{
	struct outcome o = { 0 };
	size_t len;
	FILE *in = fopen("/", "re");
	FILE *out = open_memstream(&o.out, &len);
	al_error_clear(&o.err);
	o.ret = audit_tail(in, out, NULL, false, 0, &o.err);
	CHECK(o.ret == -1 && o.err.code == EISDIR, "a read error is an error, not an empty log (%s)", o.err.msg);
	fclose(out);
	fclose(in);
	free(o.out);

	al_error err;
	al_error_clear(&err);
	CHECK(audit_open("/nonexistent/audit.jsonl", &err) == NULL && err.code == ENOENT &&
		      strstr(err.msg, "/nonexistent/audit.jsonl"),
	      "audit_open names the file (%s)", err.msg);
	CHECK(audit_open("-", &err) == stdin, "- is stdin");
}

int main(void)
{
	test_parse();
	test_tail();
	test_terminal_safety();
	test_summary();
	test_read_error();
	return check_done();
}
