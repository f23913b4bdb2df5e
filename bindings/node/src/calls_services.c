/*
 * The calls of the platform services: audit, the event outbox and its
 * consumers, import and export, duplicates and merge, search, timeline.
 */
#include <stdlib.h>

#include "addon.h"

static int audit_history(crm_db *db, ncall *a) { return crm_audit_history(db, a->s[0], a->i[0], &a->out); }
static int record_at(crm_db *db, ncall *a) { return crm_record_at(db, a->s[0], a->i[0], a->i[1], &a->out); }
static int revert(crm_db *db, ncall *a) { return crm_record_revert(db, a->s[0], a->i[0], a->i[1]); }
static int audit_verify(crm_db *db, ncall *a) { return crm_audit_verify_head(db, a->s[0], &a->out); }
static int audit_key(crm_db *db, ncall *a) { return crm_audit_key_set(db, a->s[0], a->s[0] ? a->slen[0] : 0); }

static int event_list(crm_db *db, ncall *a)
{
	if (a->i[1] < 1 || a->i[1] > 0x7fffffff) /* libcrm takes an int: a larger one must not wrap */
		a->i[1] = a->i[1] < 1 ? 0 : 0x7fffffff;
	return crm_event_list(db, a->i[0], (int)a->i[1], &a->out);
}

static int event_head(crm_db *db, ncall *a) { return crm_event_head(db, &a->out_i); }
static int event_prune(crm_db *db, ncall *a) { return crm_event_prune(db, a->i[0], &a->out_i); }
static int consumer_set(crm_db *db, ncall *a) { return crm_consumer_set(db, a->s[0], a->s[1]); }

static int consumer_ack(crm_db *db, ncall *a) { return crm_consumer_ack(db, a->s[0], a->i[0]); }
static int consumer_get(crm_db *db, ncall *a) { return crm_consumer_get(db, a->s[0], &a->out); }
static int consumer_list(crm_db *db, ncall *a) { return crm_consumer_list(db, &a->out); }
static int consumer_drop(crm_db *db, ncall *a) { return crm_consumer_drop(db, a->s[0]); }

/* export into memory: the bytes come back as one Buffer */
static int put(void *payload, const void *data, size_t len)
{
	nbuf *b = payload;
	nbuf_put(b, data, len);
	return b->failed;
}

static int export_bytes(crm_db *db, ncall *a)
{
	nbuf b = {0};
	int rc = crm_export(db, a->s[0], a->s[1], put, &b);
	if (rc != CRM_OK || b.failed) {
		nbuf_free(&b);
		return rc != CRM_OK ? rc : CRM_ENOMEM;
	}
	a->out = b.p;
	a->out_len = b.len;
	return CRM_OK;
}

static int export_file(crm_db *db, ncall *a) { return crm_export_file(db, a->s[0], a->s[1], a->s[2]); }

static int import_buffer(crm_db *db, ncall *a)
{
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;
	o.json = a->s[2];
	return crm_import_buffer(db, a->s[0], a->s[1], a->slen[1], &o, &a->out);
}

static int import_file(crm_db *db, ncall *a)
{
	crm_import_options o = CRM_IMPORT_OPTIONS_INIT;
	o.json = a->s[2];
	return crm_import_file(db, a->s[0], a->s[1], &o, &a->out);
}

static int duplicates(crm_db *db, ncall *a) { return crm_duplicates(db, a->s[0], a->s[1], &a->out); }
static int merge(crm_db *db, ncall *a) { return crm_merge(db, a->s[0], a->i[0], a->i[1], a->s[1], &a->out); }
static int merge_undo(crm_db *db, ncall *a) { return crm_merge_undo(db, a->i[0]); }
static int search(crm_db *db, ncall *a) { return crm_search(db, a->s[0], a->s[1], &a->out); }
static int timeline(crm_db *db, ncall *a) { return crm_timeline(db, a->s[0], a->i[0], a->s[1], &a->out); }

const ncall_def ncalls_services[] = {
	{"auditHistory", "si", 'j', audit_history},
	{"recordAt", "sii", 'j', record_at},
	{"revert", "sii", 'v', revert},
	{"auditVerify", "S", 'j', audit_verify},
	{"auditKey", "b", 'v', audit_key},
	{"eventList", "ii", 'j', event_list},
	{"eventHead", "", 'i', event_head},
	{"eventPrune", "i", 'i', event_prune},
	{"consumerSet", "sj", 'v', consumer_set},
	{"consumerAck", "si", 'v', consumer_ack},
	{"consumerGet", "s", 'j', consumer_get},
	{"consumerList", "", 'j', consumer_list},
	{"consumerDrop", "s", 'v', consumer_drop},
	{"export", "jj", 'B', export_bytes},
	{"exportFile", "jjs", 'v', export_file},
	{"importBuffer", "sbj", 'j', import_buffer},
	{"importFile", "ssj", 'j', import_file},
	{"duplicates", "sj", 'j', duplicates},
	{"merge", "siij", 'j', merge},
	{"mergeUndo", "i", 'v', merge_undo},
	{"search", "sj", 'j', search},
	{"timeline", "sij", 'j', timeline},
	{NULL, NULL, 0, NULL},
};
