// SPDX-License-Identifier: GPL-2.0-only
/*
 * nats_tool: what the fleet tests need from a JetStream server and an evidence store,
 * through libnats (Debian has no `nats` CLI):
 *   nats_tool stream URL REPLICAS   create the EXFILMON stream (FLEET_WIRE.md), idempotent
 *   nats_tool dump URL KIND         every message of exfilmon.KIND.* in stream order:
 *                                   evidence: "BLOCK HASH MSGID ok|BAD" (hash recomputed),
 *                                   others: "MSGID STORED_NS JSON"
 *   nats_tool leader URL            the stream leader's server name
 *   nats_tool local DIR             "BLOCK HASH" of every block of an evidence store
 *   nats_tool records DIR           "TYPE JSON" of every record of an evidence store, read
 *                                   through the store's reader (and its one decompressor)
 *   nats_tool publish URL SUBJECT MSGID TEXT   one acknowledged publish (attack tests)
 *   nats_tool sub URL SUBJECT       subscribe for a second; prints the server's complaint
 * TLS from the environment: XT_CA, XT_CERT, XT_KEY. Exit 0, 1 on failure, 2 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "common/hash.h"
#include "evidence/evidence_format.h"
#include "evidence/evidence_read.h"

#define STREAM "EXFILMON"

static int fail(const char *what, natsStatus s, jsErrCode jerr)
{
	const char *t = nats_GetLastError(NULL);

	fprintf(stderr, "nats_tool: %s: %s (js error %d)\n", what,
		t && *t ? t : natsStatus_GetText(s), (int)jerr);
	return 1;
}

static natsStatus connect_js(const char *url, natsConnection **nc, jsCtx **js)
{
	const char *ca = getenv("XT_CA"), *cert = getenv("XT_CERT"), *key = getenv("XT_KEY");
	natsOptions *o = NULL;
	natsStatus s = natsOptions_Create(&o);

	if (s == NATS_OK)
		s = natsOptions_SetURL(o, url);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 3000);
	if (s == NATS_OK && ca)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && ca)
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	if (s == NATS_OK && cert)
		s = natsOptions_LoadCertificatesChain(o, cert, key);
	if (s == NATS_OK && getenv("XT_INBOX"))
		s = natsOptions_SetCustomInboxPrefix(o, getenv("XT_INBOX"));
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(js, *nc, NULL);
	natsOptions_Destroy(o);
	return s;
}

static int cmd_stream(jsCtx *js, int replicas)
{
	const char *subjects[] = { "exfilmon.evidence.*", "exfilmon.alert.*",
				   "exfilmon.heartbeat.*", "exfilmon.policyevent.*" };
	jsStreamConfig cfg;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = STREAM;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 4;
	cfg.Storage = js_FileStorage;
	cfg.Replicas = replicas;
	cfg.Duplicates = 120LL * 1000000000LL;
	s = js_AddStream(&si, js, &cfg, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK && jerr != JSStreamNameExistErr)
		return fail("add stream", s, jerr);
	return 0;
}

static void print_evidence(natsMsg *m)
{
	const struct ev_block_hdr *h = (const void *)natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);
	const char *id = "-";
	char hex[65] = "-";
	bool ok = false;

	natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
	if (len >= EV_HDR_LEN && ev_hdr_plausible(h) && (int)(EV_HDR_LEN + h->comp_len) == len) {
		ok = ev_block_hash_ok(h, (const unsigned char *)h + EV_HDR_LEN);
		hex_encode(h->hash, 32, hex);
	}
	printf("%llu %s %s %s\n", len >= EV_HDR_LEN ? (unsigned long long)h->block_no : 0ULL, hex,
	       id, ok ? "ok" : "BAD");
}

static int cmd_dump(jsCtx *js, const char *kind)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char prefix[64];
	natsStatus s = js_GetStreamInfo(&si, js, STREAM, NULL, &jerr);

	if (s != NATS_OK)
		return fail("stream info", s, jerr);
	snprintf(prefix, sizeof(prefix), "exfilmon.%s.", kind);
	for (uint64_t seq = si->State.FirstSeq; seq && seq <= si->State.LastSeq; seq++) {
		natsMsg *m = NULL;
		const char *id = "-";

		s = js_GetMsg(&m, js, STREAM, seq, NULL, &jerr);
		if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
			continue;
		if (s != NATS_OK) {
			jsStreamInfo_Destroy(si);
			return fail("get message", s, jerr);
		}
		if (!strncmp(natsMsg_GetSubject(m), prefix, strlen(prefix))) {
			if (!strcmp(kind, "evidence")) {
				print_evidence(m);
			} else {
				natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
				printf("%s %lld %.*s\n", id, (long long)natsMsg_GetTime(m),
				       natsMsg_GetDataLength(m), natsMsg_GetData(m));
			}
		}
		natsMsg_Destroy(m);
	}
	jsStreamInfo_Destroy(si);
	return 0;
}

static int cmd_leader(jsCtx *js)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, js, STREAM, NULL, &jerr);

	if (s != NATS_OK)
		return fail("stream info", s, jerr);
	printf("%s\n", si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "-");
	jsStreamInfo_Destroy(si);
	return 0;
}

static int cmd_publish(jsCtx *js, const char *subject, const char *id, const char *text)
{
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = 3000;
	s = js_Publish(&pa, js, subject, text, (int)strlen(text), &po, &jerr);
	if (s != NATS_OK)
		return fail("publish", s, jerr);
	printf("stored seq %llu%s\n", (unsigned long long)pa->Sequence,
	       pa->Duplicate ? " (duplicate)" : "");
	jsPubAck_Destroy(pa);
	return 0;
}

static int cmd_sub(natsConnection *nc, const char *subject)
{
	natsSubscription *sub = NULL;
	const char *text = NULL;
	natsMsg *m = NULL;
	natsStatus s = natsConnection_SubscribeSync(&sub, nc, subject);

	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(nc, 2000);
	if (s == NATS_OK)
		s = natsSubscription_NextMsg(&m, sub, 1000);
	natsConnection_GetLastError(nc, &text);
	fprintf(stderr, "nats_tool: sub %s: %s; server: %s\n", subject, natsStatus_GetText(s),
		text && *text ? text : "-");
	natsMsg_Destroy(m);
	natsSubscription_Destroy(sub);
	return s == NATS_OK ? 0 : 1;
}

static int cmd_local(const char *dir)
{
	struct ev_block b = { 0 };
	uint64_t n = 0;
	char hex[65];
	int err = evidence_first_block(dir, &n);

	if (err) {
		fprintf(stderr, "nats_tool: %s: %s\n", dir, strerror(-err));
		return 1;
	}
	while (!(err = evidence_block_read(dir, n, &b))) {
		hex_encode(b.hash, 32, hex);
		printf("%llu %s\n", (unsigned long long)n, hex);
		n++;
	}
	ev_block_free(&b);
	if (err != -EAGAIN) {
		fprintf(stderr, "nats_tool: %s: block %llu: %s\n", dir, (unsigned long long)n,
			strerror(-err));
		return 1;
	}
	return 0;
}

static int print_record(void *ctx, const struct ev_record *r)
{
	printf("%s %s\n", r->type, r->json);
	return 0;
}

static int cmd_records(const char *dir)
{
	struct ev_report rep;
	int err = evidence_read(dir, NULL, print_record, NULL, &rep);

	if (err || !rep.intact) {
		fprintf(stderr, "nats_tool: %s: %s\n", dir, err ? strerror(-err) : rep.problem);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	natsStatus s;
	int rc = 2;

	if (argc == 3 && !strcmp(argv[1], "local"))
		return cmd_local(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "records"))
		return cmd_records(argv[2]);
	if (argc < 3)
		goto usage;
	s = connect_js(argv[2], &nc, &js);
	if (s != NATS_OK)
		return fail(argv[2], s, 0);
	if (argc == 4 && !strcmp(argv[1], "stream"))
		rc = cmd_stream(js, atoi(argv[3]));
	else if (argc == 4 && !strcmp(argv[1], "dump"))
		rc = cmd_dump(js, argv[3]);
	else if (argc == 3 && !strcmp(argv[1], "leader"))
		rc = cmd_leader(js);
	else if (argc == 4 && !strcmp(argv[1], "sub"))
		rc = cmd_sub(nc, argv[3]);
	else if (argc == 6 && !strcmp(argv[1], "publish"))
		rc = cmd_publish(js, argv[3], argv[4], argv[5]);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	if (rc != 2)
		return rc;
usage:
	fprintf(stderr, "usage: nats_tool stream URL REPLICAS | dump URL KIND | leader URL | "
			"local DIR | records DIR | publish URL SUBJECT MSGID TEXT | sub URL SUBJECT\n");
	return 2;
}
