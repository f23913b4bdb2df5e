/* The compiled form: what a JSON definition becomes once checked, shared by
 * the storage layer (which turns it into SQL) and the form engine (which
 * parses definitions and validates records against it). */
#ifndef CRM_STORE_SCHEMA_H
#define CRM_STORE_SCHEMA_H

#include <pcre2.h>
#include <stdint.h>

#include "backend/backend.h"
#include "crm/form.h"

/* A typed value in storage representation: decimals as scaled integers,
 * booleans 0/1, dates as "YYYY-MM-DD" text, datetimes as ms since epoch,
 * multi-enums as canonical JSON array text, json as minified-as-given text.
 * An integer that stands for a decimal, datetime or boolean says so in
 * `nat` (enum crm__natural, with the decimal's `scale`): a backend storing
 * natural types binds it as one (crm__value_bind). */
typedef enum crm__vkind { CRM__V_NULL = 0, CRM__V_INT, CRM__V_REAL, CRM__V_TEXT } crm__vkind;
typedef struct crm__value {
	crm__vkind kind;
	unsigned char nat, scale; /* CRM__V_INT: enum crm__natural, decimal scale (in kind's padding) */
	int64_t i;
	double d;
	const char *s; /* CRM__V_TEXT: not NUL-terminated */
	size_t n;
} crm__value;

/* How a field's values are stored in its SQLite column. */
typedef enum crm__storage { CRM__S_INTEGER, CRM__S_REAL, CRM__S_TEXT } crm__storage;

enum crm__field_flags {
	CRM__F_REQUIRED = 1 << 0,
	CRM__F_UNIQUE = 1 << 1, /* single-field unique (also listed in form->uniques) */
	CRM__F_HAS_DEFAULT = 1 << 2,
	CRM__F_HAS_MIN = 1 << 3,
	CRM__F_HAS_MAX = 1 << 4,
	CRM__F_INDEXED = 1 << 5,
	CRM__F_MIN_EXCLUSIVE = 1 << 6, /* min came from exclusive_min: the bound itself is out */
	CRM__F_MAX_EXCLUSIVE = 1 << 7,
};

enum crm__on_delete { CRM__ON_DELETE_RESTRICT, CRM__ON_DELETE_SET_NULL, CRM__ON_DELETE_CASCADE };

typedef struct crm__filter crm__filter;
/* A form's "permissions" compiled (lib/access); freed with the form. */
typedef struct crm__access_rules crm__access_rules;
void crm__access_rules_free(crm__access_rules *rules);

/* What a rollup field aggregates (lib/report/rollup.c keeps it current). */
enum crm__rollup_agg {
	CRM__ROLLUP_COUNT,
	CRM__ROLLUP_COUNT_DISTINCT,
	CRM__ROLLUP_SUM,
	CRM__ROLLUP_AVG,
	CRM__ROLLUP_MIN,
	CRM__ROLLUP_MAX
};
/* A rollup as defined; the child side is checked after a whole crm_apply
 * (the child form may come later in the same call). */
typedef struct crm__rollup_def {
	char *form;   /* the child form */
	char *ref;    /* the child's ref field pointing at this form */
	int agg;      /* enum crm__rollup_agg */
	char *field;  /* the aggregated child field; NULL for count */
	char *filter; /* condition on the child records (JSON text from cJSON: cJSON_free), or NULL */
} crm__rollup_def;

typedef struct crm__field {
	char *id;         /* stable id: survives renames */
	char *name;       /* column name */
	char *label;
	crm_type type;
	crm_type value_type; /* computed, rollup: the type of its result; otherwise == type */
	crm__storage storage;
	unsigned flags;
	int position;     /* index in form->fields */
	int scale;        /* decimal */
	crm__value min, max; /* numeric/date bounds in storage representation */
	crm__value def;      /* default (strings owned by the form) */
	int64_t min_length, max_length; /* code points; -1: none */
	char *pattern;    /* PCRE2 source */
	pcre2_code *re;
	char **options;   /* enum / multi_enum */
	size_t noptions;
	char *ref_form;   /* ref: target form name */
	int on_delete;    /* ref: enum crm__on_delete */
	crm__filter *required_when;
	char *lua;        /* computed: Lua expression */
	crm__rollup_def *rollup; /* rollup: its definition */
	char *actor_default; /* an insert leaving the field out takes this actor value ("user", an attribute) */
} crm__field;

/* A unique constraint or a plain index: field positions in order. */
typedef struct crm__index {
	int *fields;
	int nfields;
	int unique;
	int nulls_distinct; /* unique only: may several records leave the key empty? */
	char *name;         /* SQLite index name, derived from the form and field names */
} crm__index;

typedef struct crm__form {
	int refs;        /* cursors and callers retain a form across cache flushes */
	char *name;      /* table name */
	char *label;
	int64_t version; /* metadata version */
	crm__field *fields;
	int nfields;
	crm__index *indexes; /* unique constraints first, then plain indexes */
	int nindexes;
	char *body;      /* normalised definition JSON (from cJSON: cJSON_free) */
	char **validators; /* plugin functions ("plugin.fn") that check whole records */
	int nvalidators;
	crm__access_rules *access; /* "permissions"; NULL: open to every actor */
	int audit;       /* record writes get audit entries ("audit": false turns them off) */
	int events;      /* record writes append crm.create/update/delete events ("events": false: none) */
	struct crm__dedup *dedup; /* "duplicates" (lib/io/dedup.c); NULL: no rules */
	/* prepared statements owned by the form */
	crm__stmt *st_insert;
	crm__stmt *st_get;
	char *sql_get; /* the text of crm__sql_get, once made */
} crm__form;

/* System columns every form table has, before and after the fields. */
#define CRM__SYS_ID "id"
extern const char *const crm__system_columns[5]; /* id, created_at, updated_at, owner, version */
int crm__is_system_column(const char *name);

/* Field lookup by name; NULL when absent. */
crm__field *crm__form_field(const crm__form *form, const char *name, size_t len);
/* The same, trying position `guess` first (records usually list their
 * fields in definition order). */
crm__field *crm__form_field_near(const crm__form *form, const char *name, size_t len, int guess);
/* The same for a NUL-terminated name (no length to find, no NUL to look for). */
crm__field *crm__form_field_cstr(const crm__form *form, const char *name, int guess);
crm__storage crm__storage_of(crm_type type);
/* The natural kind of the integers of a field of `type` (CRM__NAT_NONE
 * for integers, refs and every type not stored as an integer). Inline: it
 * is asked for every value written and read. */
static inline enum crm__natural crm__natural_of(crm_type type)
{
	switch (type) {
	case CRM_TYPE_DECIMAL: return CRM__NAT_DECIMAL;
	case CRM_TYPE_BOOLEAN: return CRM__NAT_BOOL;
	case CRM_TYPE_DATETIME: return CRM__NAT_DATETIME;
	default: return CRM__NAT_NONE;
	}
}
const char *crm__type_name(crm_type type);
/* Type by name ("text", "long_text", ...); 0 when unknown. */
crm_type crm__type_from_name(const char *name);

void crm__form_retain(crm__form *form);
void crm__form_release(crm__form *form);

#endif
