/* The per-handle last error: code, message and JSON detail (never global). */
#include <stdarg.h>
#include <stdio.h>

#include "db_int.h"

static const char *const code_names[] = {
	"CRM_OK",      "CRM_ERROR",   "CRM_EINVAL", "CRM_ENOTFOUND", "CRM_ECONFLICT",
	"CRM_ECONSTRAINT", "CRM_EPERM", "CRM_ESCRIPT", "CRM_EBUSY", "CRM_ENOMEM",
	"CRM_EIO",     "CRM_ELIMIT",  "CRM_EMISUSE", "CRM_EEXISTS",
};

const char *crm_errstr(int code)
{
	if (code >= 0 && code < (int)(sizeof code_names / sizeof *code_names))
		return code_names[code];
	if (code == CRM_ROW)
		return "CRM_ROW";
	if (code == CRM_DONE)
		return "CRM_DONE";
	return "CRM_UNKNOWN";
}

static int build(crm_db *db, int code, const char *msg)
{
	db->errcode = code;
	crm__buf_reset(&db->errmsg);
	crm__buf_puts(&db->errmsg, msg);
	crm__buf_reset(&db->errdetail);
	crm__buf_puts(&db->errdetail, "{\"code\":");
	crm__json_cstr(&db->errdetail, crm_errstr(code));
	crm__buf_puts(&db->errdetail, ",\"message\":");
	crm__json_cstr(&db->errdetail, msg);
	if (db->errmembers.len) {
		crm__buf_putc(&db->errdetail, ',');
		crm__buf_put(&db->errdetail, db->errmembers.p, db->errmembers.len);
	}
	crm__buf_putc(&db->errdetail, '}');
	return code;
}

static int set_error(crm_db *db, int code, const char *members, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	crm__buf_reset(&db->errmembers);
	if (members)
		crm__buf_puts(&db->errmembers, members);
	return build(db, code, msg);
}

int crm__error_remessage(crm_db *db, const char *message)
{
	char msg[1024];

	snprintf(msg, sizeof msg, "%s", message);
	return build(db, db->errcode, msg);
}

int crm__error(crm_db *db, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(db, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int crm__error_detail(crm_db *db, int code, const char *members, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(db, code, members, fmt, ap);
	va_end(ap);
	return code;
}

int crm__error_oom(crm_db *db) { return crm__error(db, CRM_ENOMEM, "out of memory"); }

int crm_errcode(crm_db *db) { return db ? db->errcode : CRM_EMISUSE; }

const char *crm_errmsg(crm_db *db)
{
	if (!db)
		return "no handle";
	return db->errcode ? crm__buf_cstr(&db->errmsg) : "";
}

const char *crm_errdetail(crm_db *db)
{
	if (!db)
		return "{\"code\":\"CRM_EMISUSE\",\"message\":\"no handle\"}";
	return db->errcode ? crm__buf_cstr(&db->errdetail) : "{}";
}

int crm__warn(crm_db *db, const char *json, size_t len)
{
	if (db->nwarnings >= 100)
		return CRM_OK;
	if (db->nwarnings++)
		crm__buf_putc(&db->warnings, ',');
	crm__buf_put(&db->warnings, json, len);
	return db->warnings.oom ? crm__error_oom(db) : CRM_OK;
}

const char *crm_warnings(crm_db *db)
{
	/* A failed call rolled back what its warnings were about. */
	if (!db || db->errcode || db->nwarnings == 0)
		return "[]";
	/* "[" before the first and "]" after the last, once per call. */
	if (db->warnings.p[0] != '[') {
		crm__buf wrapped = CRM__BUF_INIT;
		crm__buf_putc(&wrapped, '[');
		crm__buf_put(&wrapped, db->warnings.p, db->warnings.len);
		crm__buf_putc(&wrapped, ']');
		if (wrapped.oom)
			return "[]";
		crm__buf_free(&db->warnings);
		db->warnings = wrapped;
	}
	return crm__buf_cstr(&db->warnings);
}

int crm_erroffset(crm_db *db) { return db && db->errcode ? db->erroffset : -1; }

int crm__error_path(crm_db *db, const char *path, const char *fmt, ...)
{
	char msg[900];
	crm__buf members = CRM__BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	crm__buf_puts(&members, "\"path\":");
	crm__json_cstr(&members, path ? path : "");
	if (members.oom)
		rc = crm__error_oom(db);
	else if (path && *path)
		rc = crm__error_detail(db, CRM_EINVAL, crm__buf_cstr(&members), "%s: %s", path, msg);
	else
		rc = crm__error_detail(db, CRM_EINVAL, crm__buf_cstr(&members), "%s", msg);
	crm__buf_free(&members);
	return rc;
}

int crm__error_context(crm_db *db, const char *prefix, const char *members)
{
	char msg[1024];

	if (db->errcode == CRM_OK || db->errcode == CRM_ENOMEM)
		return db->errcode;
	if (members && *members) {
		if (db->errmembers.len)
			crm__buf_putc(&db->errmembers, ',');
		crm__buf_puts(&db->errmembers, members);
		if (db->errmembers.oom)
			return crm__error_oom(db);
	}
	if (prefix && *prefix)
		snprintf(msg, sizeof msg, "%s: %s", prefix, crm__buf_cstr(&db->errmsg));
	else
		snprintf(msg, sizeof msg, "%s", crm__buf_cstr(&db->errmsg));
	return build(db, db->errcode, msg);
}
