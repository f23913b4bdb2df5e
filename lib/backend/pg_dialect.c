/* PostgreSQL's SQL fragments (see crm__dialect in backend.h). Field values
 * are stored in PostgreSQL's natural types (numeric, timestamptz, boolean,
 * date, json, text[]) so other tools read them as they are; libcrm's own columns
 * (created_at, updated_at) keep the engines' representation (ms in
 * bigint), so fragments over them convert explicitly. */
#include <stdio.h>

#include "core/codec.h"
#include "pg_dialect.h"

static void pg_unique_key(crm__buf *sql, const char *column_sql) { crm__buf_puts(sql, column_sql); }

static void pg_json_member(crm__buf *sql, const char *expr, const char *key)
{
	crm__buf_printf(sql, "(CAST(%s AS jsonb) ->> '%s')", expr, key);
}

/* The natural types the engines keep as integers (numeric holds only
 * decimals, booleans and timestamptz) count as integer. */
static void pg_storage_class(crm__buf *sql, const char *expr)
{
	crm__buf_printf(sql,
			"CASE WHEN %s IS NULL THEN 'null'"
			" WHEN pg_typeof(%s) IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype,"
			" 'numeric'::regtype, 'boolean'::regtype, 'timestamptz'::regtype) THEN 'integer'"
			" WHEN pg_typeof(%s) IN ('double precision'::regtype, 'real'::regtype) THEN 'real'"
			" WHEN pg_typeof(%s) = 'bytea'::regtype THEN 'blob' ELSE 'text' END",
			expr, expr, expr, expr);
}

/* Spelt as format_type prints them (column_decl_type), so a rollup's
 * column type compares equal. numeric(19, s) holds every 64-bit scaled
 * integer at scale s. */
static const char *pg_field_type(crm_type type, int scale)
{
	static const char *const decimal[CRM__DECIMAL_MAX_SCALE + 1] = {
		"numeric(19,0)", "numeric(19,1)", "numeric(19,2)", "numeric(19,3)", "numeric(19,4)",
		"numeric(19,5)", "numeric(19,6)", "numeric(19,7)", "numeric(19,8)", "numeric(19,9)",
	};

	switch (type) {
	case CRM_TYPE_DECIMAL: return scale >= 0 && scale <= CRM__DECIMAL_MAX_SCALE ? decimal[scale] : NULL;
	case CRM_TYPE_DATETIME: return "timestamp with time zone";
	case CRM_TYPE_BOOLEAN: return "boolean";
	case CRM_TYPE_DATE: return "date";
	case CRM_TYPE_JSON: return "json";
	case CRM_TYPE_MULTI_ENUM: return "text[]";
	default: return NULL;
	}
}

static void pg_as_storage(crm__buf *sql, crm_type type, int scale, const char *expr)
{
	switch (type) {
	case CRM_TYPE_DECIMAL:
		/* numeric times a power of ten is exact, and integral at its scale */
		crm__buf_printf(sql, "CAST(%s * 1", expr);
		for (int i = 0; i < scale; i++)
			crm__buf_putc(sql, '0');
		crm__buf_puts(sql, " AS bigint)");
		return;
	case CRM_TYPE_DATETIME: /* extract gives an exact numeric */
		crm__buf_printf(sql, "CAST(extract(epoch FROM %s) * 1000 AS bigint)", expr);
		return;
	case CRM_TYPE_BOOLEAN: crm__buf_printf(sql, "CAST(%s AS integer)", expr); return;
	/* text made here compares in byte order too, as the columns do */
	case CRM_TYPE_DATE: crm__buf_printf(sql, "(to_char(%s, 'YYYY-MM-DD') COLLATE \"C\")", expr); return;
	case CRM_TYPE_JSON: crm__buf_printf(sql, "(CAST(%s AS text) COLLATE \"C\")", expr); return;
	/* array_to_json escapes as crm__json_str does: the same bytes */
	case CRM_TYPE_MULTI_ENUM: crm__buf_printf(sql, "(CAST(array_to_json(%s) AS text) COLLATE \"C\")", expr); return;
	default: crm__buf_puts(sql, expr);
	}
}

/* json has no order, and text[] orders by elements, not as the JSON text. */
static void pg_sort_value(crm__buf *sql, crm_type type, const char *expr)
{
	if (type == CRM_TYPE_JSON || type == CRM_TYPE_MULTI_ENUM)
		pg_as_storage(sql, type, 0, expr);
	else
		crm__buf_puts(sql, expr);
}

/* The natural column already is the human value. */
static void pg_human_value(crm__buf *sql, crm_type type, int scale, const char *expr)
{
	(void)type;
	(void)scale;
	crm__buf_puts(sql, expr);
}

/* ms since the epoch as a UTC timestamp without time zone. */
static void utc_timestamp(crm__buf *sql, const char *ms)
{
	crm__buf_printf(sql, "(to_timestamp(%s / 1000.0) AT TIME ZONE 'UTC')", ms);
}

static void pg_iso_datetime(crm__buf *sql, const char *expr)
{
	crm__buf_puts(sql, "to_char(");
	utc_timestamp(sql, expr);
	crm__buf_puts(sql, ", 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
}

static void pg_bucket_start(crm__buf *sql, int bucket, int datetime, const char *expr)
{
	static const char *const unit[] = { "day", "day", "week", "month", "quarter", "year" };

	/* date_trunc's week starts on Monday, as ISO weeks do. */
	crm__buf_printf(sql, "to_char(date_trunc('%s', ", unit[bucket]);
	if (datetime)
		utc_timestamp(sql, expr);
	else
		crm__buf_printf(sql, "CAST(%s AS date)", expr);
	crm__buf_puts(sql, "), 'YYYY-MM-DD')");
}

static void pg_iso_week(crm__buf *sql, const char *day)
{
	crm__buf_printf(sql, "to_char(CAST(%s AS date), 'IYYY-\"W\"IW')", day);
}

static void pg_day_number(crm__buf *sql, const char *day)
{
	crm__buf_printf(sql, "(CAST(%s AS date) - DATE '1970-01-01')", day);
}

/* least and greatest skip NULLs: an empty value must stay empty. */
static void pg_clamp(crm__buf *sql, const char *expr, int64_t lo, int64_t hi)
{
	crm__buf_printf(sql, "CASE WHEN %s IS NULL THEN NULL ELSE least(greatest(%s, %lld), %lld) END", expr, expr,
			(long long)lo, (long long)hi);
}

/* A simple view is updatable on PostgreSQL: a trigger refuses writes. */
static void pg_view_read_only(crm__buf *sql, const char *view)
{
	crm__buf_puts(sql, "; CREATE OR REPLACE TRIGGER crm_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON ");
	crm__sql_ident(sql, view);
	crm__buf_puts(sql, " FOR EACH ROW EXECUTE FUNCTION crm_read_only()");
}

/* crm_sum_real: float8 addition fails on overflow; this sum goes to an
 * infinity instead (halving is exact, so the common path and the halved
 * one round alike). plpgsql, not SQL: a SQL transition function is not
 * inlined and costs several times more. crm_read_only: the views' writes. */
const char crm__pg_functions_sql[] =
	/* sum_strict: an exact sum that fails (numeric_value_out_of_range)
	 * when its digits, the engines' scaled integer, do not fit 64 bits:
	 * a numeric(19, s) column would take a few values past that. */
	"CREATE OR REPLACE FUNCTION crm_sum_fits(s numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE STRICT AS $$"
	" BEGIN PERFORM CAST(replace(CAST(s AS text), '.', '') AS bigint); RETURN s; END $$;"
	"CREATE OR REPLACE AGGREGATE crm_sum_strict(numeric)"
	" (SFUNC = numeric_add, STYPE = numeric, FINALFUNC = crm_sum_fits);"
	"CREATE OR REPLACE FUNCTION crm_sum_real_step(s double precision, x double precision) RETURNS double precision"
	" LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$"
	" BEGIN IF abs(s) <= 8.98846567431158e307 AND abs(x) <= 8.98846567431158e307 THEN RETURN s + x; END IF;"
	" IF abs(s / 2 + x / 2) <= 8.98846567431158e307 THEN RETURN (s / 2 + x / 2) * 2; END IF;"
	" RETURN sign(s / 2 + x / 2) * CAST('Infinity' AS double precision); END $$;"
	"CREATE OR REPLACE AGGREGATE crm_sum_real(double precision)"
	" (SFUNC = crm_sum_real_step, STYPE = double precision);"
	"CREATE OR REPLACE FUNCTION crm_read_only() RETURNS trigger LANGUAGE plpgsql AS $$"
	" BEGIN RAISE EXCEPTION 'cannot modify % because it is a view: libcrm writes the table', TG_TABLE_NAME"
	" USING ERRCODE = 'object_not_in_prerequisite_state'; END $$;";

/* ---- search: pg_trgm (a trusted extension: the database owner may
 * create it) with one GIN trigram index over the form's declared columns,
 * which PostgreSQL keeps current itself; terms match with ILIKE, which the
 * index serves, and rank by trigram similarity. ---- */

static void search_index_name(crm__buf *sql, const char *form)
{
	char name[80];

	snprintf(name, sizeof name, "crm_fts_%s", form);
	crm__sql_ident(sql, name);
}

/* The extension goes to public unless the database has it already; its
 * operator class and similarity are named through the schema it is in, so
 * a search_path without that schema still finds them (crm_similarity). */
static void pg_search_index(crm__buf *sql, const char *form, const char *const *columns, int n, int create)
{
	crm__buf_puts(sql, "DROP INDEX IF EXISTS ");
	search_index_name(sql, form);
	if (!create)
		return;
	crm__buf_puts(sql, ";CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;"
			   "DO $crm$ DECLARE s text := (SELECT quote_ident(n.nspname) FROM pg_catalog.pg_extension e"
			   " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');"
			   " BEGIN EXECUTE 'CREATE INDEX ");
	search_index_name(sql, form);
	crm__buf_puts(sql, " ON ");
	crm__sql_ident(sql, form);
	crm__buf_puts(sql, " USING gin (");
	for (int i = 0; i < n; i++) {
		crm__buf_puts(sql, i ? ", " : "");
		crm__sql_ident(sql, columns[i]);
		crm__buf_puts(sql, " ' || s || '.gin_trgm_ops");
	}
	crm__buf_puts(sql, ")'; EXECUTE 'CREATE OR REPLACE FUNCTION crm_similarity(a text, b text) RETURNS real"
			   " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS ''SELECT ' || s || '.similarity(a, b)'''; END $crm$");
}

static void pg_search_from(crm__buf *sql, const char *form, const char *alias)
{
	crm__sql_ident(sql, form);
	crm__buf_printf(sql, " AS %s", alias);
}

static int pg_search_match(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n)
{
	(void)form;
	crm__buf_putc(sql, '(');
	for (int i = 0; i < n; i++) {
		crm__buf_printf(sql, "%s%s.", i ? " OR " : "", alias);
		crm__sql_ident(sql, columns[i]);
		crm__buf_puts(sql, " ILIKE ?");
	}
	crm__buf_putc(sql, ')');
	return n;
}

/* The term as an ILIKE pattern: its own wildcards and escapes taken literally. */
static void pg_search_value(crm__buf *out, const char *term, size_t len, const char *const *columns, int n)
{
	(void)columns;
	(void)n;
	crm__buf_putc(out, '%');
	for (size_t i = 0; i < len; i++) {
		if (term[i] == '%' || term[i] == '_' || term[i] == '\\')
			crm__buf_putc(out, '\\');
		crm__buf_putc(out, term[i]);
	}
	crm__buf_putc(out, '%');
}

static int pg_search_rank(crm__buf *sql, const char *form, const char *alias, const char *const *columns, int n)
{
	(void)form;
	crm__buf_puts(sql, "coalesce(greatest(");
	for (int i = 0; i < n; i++) {
		crm__buf_printf(sql, "%scrm_similarity(%s.", i ? ", " : "", alias);
		crm__sql_ident(sql, columns[i]);
		crm__buf_puts(sql, ", CAST(? AS text))");
	}
	crm__buf_puts(sql, "), 0)");
	return n;
}

const crm__dialect crm__pg_dialect = {
	.type_integer = "bigint",
	.type_real = "double precision",
	/* Byte order (SQLite's BINARY) in comparisons, sorting and indexes,
	 * whatever the database's collation: at the column, so indexes serve
	 * it and no query has to say COLLATE. */
	.type_text = "text COLLATE \"C\"",
	.type_blob = "bytea",
	.field_type = pg_field_type,
	.as_storage = pg_as_storage,
	.sort_value = pg_sort_value,
	.human_value = pg_human_value,
	/* BY DEFAULT: restores and tests may give ids; a sequence never
	 * hands out an id twice, as SQLite's AUTOINCREMENT. */
	.identity_id = "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.returning_id = " RETURNING id",
	.insert_many = "INSERT INTO ",
	/* No savepoint per inserted row: a conflict is no row back. */
	.insert_skip_conflict = " ON CONFLICT DO NOTHING",
	.lock_update = " FOR UPDATE",
	.lock_no_key_update = " FOR NO KEY UPDATE",
	.lock_key_share = " FOR KEY SHARE",
	.lock_claim = " FOR UPDATE SKIP LOCKED",
	/* The bigint key space, where the schema's lock key is the one other
	 * (a hash meeting it: a chance of 1 in 2^64). */
	.lock_value = "SELECT pg_catalog.pg_advisory_xact_lock(CAST(? AS bigint))",
	.not_distinct = "IS NOT DISTINCT FROM",
	.distinct = "IS DISTINCT FROM",
	.unique_key = pg_unique_key,
	.unique_key_end = " NULLS NOT DISTINCT",
	/* sum(bigint) is numeric: exact; crm_sum_strict refuses a total that
	 * does not fit (numeric_value_out_of_range: CRM_ELIMIT). */
	.sum_exact = "sum",
	.sum_strict = "crm_sum_strict",
	.sum_real = "crm_sum_real",
	.clamp = pg_clamp,
	.order_asc = " ASC NULLS FIRST",
	.order_desc = " DESC NULLS LAST",
	.contains_list = { "(", " @> ARRAY[CAST(", " AS text)])" },
	.position = "strpos",
	.json_member = pg_json_member,
	.storage_class = pg_storage_class,
	.iso_datetime = pg_iso_datetime,
	.create_view = "CREATE OR REPLACE VIEW ",
	.view_read_only = pg_view_read_only,
	.without_rowid = "",
	.bucket_start = pg_bucket_start,
	.iso_week = pg_iso_week,
	.day_number = pg_day_number,
	.search_index = pg_search_index,
	.search_from = pg_search_from,
	.search_match = pg_search_match,
	.search_value = pg_search_value,
	.search_rank = pg_search_rank,
	.search_sync = NULL, /* the GIN index follows the table */
	.search_like = "ILIKE",
};
