/* The actor on the handle: who the following calls act as, set by the host
 * (crm_actor_set, crm_actor_set_json) and asked by every engine. The host
 * vouches for it; libcrm checks only its shape and size. Kept in the
 * handle's access slot; NULL there is the system actor. */
#include <stdio.h>
#include <string.h>

#include "access_int.h"
#include "crm/access.h"
#include "core/alloc.h"
#include "core/json_parse.h"

/* Limits on what the host may hand in (docs/access.md). */
#define ACTOR_MAX_TEXT (1 << 20) /* the whole JSON */
#define ACTOR_MAX_ITEMS 256      /* roles, attributes, items of one array */
#define ACTOR_MAX_STRING 1024    /* user, each attribute string */
#define ACTOR_MAX_NAME 64        /* role and attribute names */

static crm__actor *actor_of(const crm_db *db) { return db->ext[CRM__EXT_ACCESS]; }

static void actor_free(void *p)
{
	crm__actor *a = p;

	if (!a)
		return;
	cJSON_Delete(a->user);
	cJSON_Delete(a->roles);
	cJSON_Delete(a->attrs);
	crm__free(a);
}

int crm__actor_is_system(const crm_db *db)
{
	const crm__actor *a = actor_of(db);

	return !a || a->as_system > 0;
}

int crm__actor_system_begin(crm_db *db)
{
	crm__actor *a = actor_of(db);

	if (a)
		a->as_system++;
	return a != NULL;
}

void crm__actor_system_end(crm_db *db, int saved)
{
	crm__actor *a = actor_of(db);

	if (saved && a && a->as_system > 0)
		a->as_system--;
}

const cJSON *crm__actor_value(crm_db *db, const char *name)
{
	const crm__actor *a = actor_of(db);

	if (!a)
		return NULL;
	if (strcmp(name, "user") == 0)
		return a->user;
	if (strcmp(name, "roles") == 0)
		return a->roles;
	return a->attrs ? cJSON_GetObjectItemCaseSensitive(a->attrs, name) : NULL;
}

int crm__actor_has_role(const crm_db *db, const char *role)
{
	const crm__actor *a = actor_of(db);
	const cJSON *r;

	if (!a)
		return 0;
	if (!role || strcmp(role, "*") == 0)
		return 1;
	cJSON_ArrayForEach(r, a->roles)
	if (strcmp(r->valuestring, role) == 0)
		return 1;
	return 0;
}

/* Role and attribute names: letters, digits, '_', '-', '.'; attributes
 * (which rules name like identifiers) no '-' or '.'. */
int crm__access_valid_name(const char *s, int role)
{
	size_t n = strlen(s);

	if (n == 0 || n > ACTOR_MAX_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      (role && (c == '-' || c == '.'))))
			return 0;
	}
	return role || !(s[0] >= '0' && s[0] <= '9');
}

int crm__access_valid_attr(const char *s) { return crm__access_valid_name(s, 0); }

static int bad(crm_db *db, const char *path, const char *msg) { return crm__error_path(db, path, "%s", msg); }

static int check_string(crm_db *db, const char *path, const cJSON *v)
{
	if (!cJSON_IsString(v))
		return bad(db, path, "must be a string");
	if (strlen(v->valuestring) > ACTOR_MAX_STRING)
		return bad(db, path, "is longer than 1024 bytes");
	return CRM_OK;
}

/* An integer attribute: exactly representable, so rules compare exactly. */
static int is_integer(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= -9007199254740991.0 && v->valuedouble <= 9007199254740991.0 &&
	       v->valuedouble == (double)(int64_t)v->valuedouble;
}

static int check_attr(crm_db *db, const cJSON *v)
{
	char path[100];
	const cJSON *el;
	int i = 0;

	snprintf(path, sizeof path, "attrs.%s", v->string);
	if (!crm__access_valid_name(v->string, 0) || strcmp(v->string, "user") == 0 || strcmp(v->string, "roles") == 0)
		return bad(db, "attrs", "an attribute name is 1 to 64 letters, digits or '_' (not user or roles)");
	if (cJSON_IsString(v))
		return check_string(db, path, v);
	if (cJSON_IsBool(v) || is_integer(v))
		return CRM_OK;
	if (!cJSON_IsArray(v))
		return bad(db, path, "must be a string, an integer, a boolean or an array of strings or integers");
	if (cJSON_GetArraySize(v) > ACTOR_MAX_ITEMS)
		return bad(db, path, "has more than 256 items");
	cJSON_ArrayForEach(el, v)
	{
		snprintf(path, sizeof path, "attrs.%s[%d]", v->string, i++);
		if (!is_integer(el) && check_string(db, path, el))
			return bad(db, path, "must be a string or an integer");
	}
	return CRM_OK;
}

/* Check the parsed actor document; every member's shape and size. */
static int check_doc(crm_db *db, const cJSON *doc, int *system)
{
	const cJSON *m, *el;
	int i;

	*system = 0;
	if (!cJSON_IsObject(doc))
		return bad(db, "actor", "an actor is a JSON object");
	cJSON_ArrayForEach(m, doc)
	{
		if (strcmp(m->string, "user") == 0) {
			if (!cJSON_IsNull(m) && check_string(db, "user", m))
				return CRM_EINVAL;
		} else if (strcmp(m->string, "system") == 0) {
			if (!cJSON_IsBool(m))
				return bad(db, "system", "must be true or false");
			*system = cJSON_IsTrue(m);
		} else if (strcmp(m->string, "roles") == 0) {
			if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) > ACTOR_MAX_ITEMS)
				return bad(db, "roles", "must be an array of at most 256 role names");
			i = 0;
			cJSON_ArrayForEach(el, m)
			{
				char path[32];
				snprintf(path, sizeof path, "roles[%d]", i++);
				if (!cJSON_IsString(el) || !crm__access_valid_name(el->valuestring, 1) ||
				    strcmp(el->valuestring, "*") == 0)
					return bad(db, path, "a role name is 1 to 64 letters, digits, '_', '-' or '.'");
			}
		} else if (strcmp(m->string, "attrs") == 0) {
			if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) > ACTOR_MAX_ITEMS)
				return bad(db, "attrs", "must be an object of at most 256 attributes");
			for (el = m->child; el; el = el->next)
				if (check_attr(db, el))
					return CRM_EINVAL;
		} else
			return bad(db, m->string, "unknown key (expected user, roles, attrs, system)");
	}
	if (*system && (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "roles")) > 0 ||
			cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "attrs")) > 0))
		return bad(db, "system", "the system actor takes no roles or attributes");
	return CRM_OK;
}

/* Make the handle act as `a` (NULL: the system actor) named `user` with
 * the comma-joined `roles` the older engines read. Takes `a`. */
static int install(crm_db *db, crm__actor *a, const char *user, const char *roles)
{
	char *u = NULL, *r = NULL;

	if ((user && !(u = crm__strdup(user))) || (roles && !(r = crm__strdup(roles)))) {
		crm__free(u);
		actor_free(a);
		return crm__error_oom(db);
	}
	crm__free(db->actor_user);
	crm__free(db->actor_roles);
	db->actor_user = u;
	db->actor_roles = r;
	actor_free(db->ext[CRM__EXT_ACCESS]);
	db->ext[CRM__EXT_ACCESS] = a;
	db->ext_free[CRM__EXT_ACCESS] = actor_free;
	return CRM_OK;
}

/* The JSON pieces of a non-system actor; `roles` and `attrs` are taken. */
static crm__actor *actor_new(const char *user, cJSON *roles, cJSON *attrs)
{
	crm__actor *a = crm__calloc(1, sizeof *a);

	if (!a || !(a->roles = roles ? roles : cJSON_CreateArray()) || !(a->attrs = attrs ? attrs : cJSON_CreateObject()) ||
	    (user && !(a->user = cJSON_CreateString(user)))) {
		if (a) {
			if (!a->roles)
				cJSON_Delete(roles);
			if (!a->attrs)
				cJSON_Delete(attrs);
		} else {
			cJSON_Delete(roles);
			cJSON_Delete(attrs);
		}
		actor_free(a);
		return NULL;
	}
	return a;
}

static int join_roles(const cJSON *roles, crm__buf *out)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, roles)
	{
		if (out->len)
			crm__buf_putc(out, ',');
		crm__buf_puts(out, r->valuestring);
	}
	crm__buf_cstr(out);
	return out->oom ? -1 : 0;
}

int crm_actor_set(crm_db *db, const char *user, const char *roles)
{
	crm__buf joined = CRM__BUF_INIT;
	crm__actor *a;
	cJSON *list;
	int rc;

	if (!db || db->closed)
		return CRM_EMISUSE;
	if (!user && !roles)
		return install(db, NULL, NULL, NULL);
	if (!(list = cJSON_CreateArray()))
		return crm__error_oom(db);
	for (const char *p = roles; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char name[ACTOR_MAX_NAME + 1];
		cJSON *s;

		if (n > 0 && n <= ACTOR_MAX_NAME) {
			memcpy(name, p, n);
			name[n] = 0;
			if (!(s = cJSON_CreateString(name)) || !cJSON_AddItemToArray(list, s)) {
				cJSON_Delete(s);
				cJSON_Delete(list);
				return crm__error_oom(db);
			}
		}
		p = end ? end + 1 : p + n;
	}
	if (!(a = actor_new(user, list, NULL)))
		return crm__error_oom(db);
	if (join_roles(a->roles, &joined)) {
		actor_free(a);
		return crm__error_oom(db);
	}
	rc = install(db, a, user, joined.p ? joined.p : (roles ? "" : NULL));
	crm__buf_free(&joined);
	return rc;
}

const char *crm_actor_get(crm_db *db) { return db ? db->actor_user : NULL; }

int crm_actor_set_json(crm_db *db, const char *actor_json)
{
	crm__buf joined = CRM__BUF_INIT;
	cJSON *doc, *roles, *attrs;
	const cJSON *user;
	crm__actor *a;
	int rc, system;

	if (!db || db->closed)
		return CRM_EMISUSE;
	if (!actor_json)
		return install(db, NULL, NULL, NULL);
	if (strlen(actor_json) > ACTOR_MAX_TEXT)
		return crm__error(db, CRM_EINVAL, "the actor is larger than 1 MB");
	if ((rc = crm__json_parse(db, actor_json, "the actor", &doc)))
		return rc;
	if ((rc = check_doc(db, doc, &system))) {
		cJSON_Delete(doc);
		return rc;
	}
	user = cJSON_GetObjectItemCaseSensitive(doc, "user");
	user = cJSON_IsString(user) ? user : NULL;
	if (system) {
		rc = install(db, NULL, user ? user->valuestring : NULL, NULL);
		cJSON_Delete(doc);
		return rc;
	}
	roles = cJSON_DetachItemFromObjectCaseSensitive(doc, "roles");
	attrs = cJSON_DetachItemFromObjectCaseSensitive(doc, "attrs");
	a = actor_new(user ? user->valuestring : NULL, roles, attrs);
	if (!a || join_roles(a->roles, &joined)) {
		actor_free(a);
		cJSON_Delete(doc);
		return crm__error_oom(db);
	}
	rc = install(db, a, user ? user->valuestring : NULL, joined.p ? joined.p : "");
	crm__buf_free(&joined);
	cJSON_Delete(doc);
	return rc;
}

int crm_actor_json(crm_db *db, char **out)
{
	const crm__actor *a;
	crm__buf b = CRM__BUF_INIT;
	char *roles = NULL, *attrs = NULL;

	if (!out)
		return CRM_EMISUSE;
	*out = NULL;
	if (!db || db->closed)
		return CRM_EMISUSE;
	a = actor_of(db);
	if (a && (!(roles = cJSON_PrintUnformatted(a->roles)) || !(attrs = cJSON_PrintUnformatted(a->attrs)))) {
		cJSON_free(roles);
		return crm__error_oom(db);
	}
	crm__buf_puts(&b, "{\"user\":");
	if (db->actor_user)
		crm__json_cstr(&b, db->actor_user);
	else
		crm__buf_puts(&b, "null");
	crm__buf_printf(&b, ",\"roles\":%s,\"attrs\":%s,\"system\":%s}", a ? roles : "[]", a ? attrs : "{}",
			a ? "false" : "true");
	cJSON_free(roles);
	cJSON_free(attrs);
	if (b.oom)
		return crm__error_oom(db);
	*out = crm__buf_detach(&b);
	return CRM_OK;
}
