/* SQL for form tables: the DDL that creates and evolves them and the
 * fixed statements of the record path. The only place form tables' SQL
 * text is put together, so another backend has one place to change. */
#ifndef CRM_STORE_DDL_H
#define CRM_STORE_DDL_H

#include "core/db_int.h"
#include "schema.h"

/* The column type of a field in the handle's backend. */
const char *crm__field_sql_type(crm_db *db, const crm__field *f);
/* CREATE TABLE for `form` under table name `table` (the form's own name,
 * or a temporary name while rebuilding). */
void crm__sql_create_table(crm_db *db, crm__buf *sql, const crm__form *form, const char *table);
/* The select list of a whole record, in the order the row readers expect:
 * id, every field in definition order, created_at, updated_at, owner,
 * version. Columns are qualified with `alias` when not NULL. */
void crm__sql_select_list(crm__buf *sql, const crm__form *form, const char *alias);
/* Column position of the system columns in that select list. */
#define CRM__SEL_FIELD(i) (1 + (i))
#define CRM__SEL_SYS(form, k) (1 + (form)->nfields + (k)) /* k: 0 created_at, 1 updated_at, 2 owner, 3 version */

/* The read-only view of a form for ordinary SQLite tools ("crm_view_" and
 * the form's name): the same columns with human values (docs/metadata.md
 * "Reading the database with other tools"). CRM__VIEW_DROP drops it (a
 * migration starts so, as SQLite cannot drop a column a view uses),
 * CRM__VIEW_CREATE makes it unless it exists. */
enum { CRM__VIEW_DROP = 1, CRM__VIEW_CREATE = 2 };
int crm__ddl_view(crm_db *db, const crm__form *form, int what);
/* The view's name for a form name, in `sql` (unquoted). */
void crm__view_name(crm__buf *sql, const char *form);

/* Create the table, indexes and view of a new form. */
int crm__ddl_create(crm_db *db, const crm__form *form);
/* Make the table's indexes exactly those `form` declares: with
 * CRM__IX_DROP drop the others libcrm made, with CRM__IX_CREATE create the
 * missing ones (a unique index that existing records break fails with
 * CRM_ECONSTRAINT naming the fields). */
enum { CRM__IX_DROP = 1, CRM__IX_CREATE = 2 };
int crm__ddl_sync_indexes(crm_db *db, const crm__form *form, int what);
/* ---- the record path's variable statements ---- */
/* UPDATE of the fields with `set[i]` non-zero (and owner when `owner`),
 * moving updated_at and version. Parameters: those fields in order,
 * [owner], updated_at, id. */
void crm__sql_update(crm__buf *sql, const crm__form *form, const unsigned char *set, int owner);
/* SELECT of one whole record (the select list). Parameter: id. */
void crm__sql_get(crm__buf *sql, crm__form *form);
/* DELETE of one record. Parameter: id. */
void crm__sql_delete(crm__buf *sql, const crm__form *form);
/* SELECT id of the records but ?1 (0: none excluded) whose fields `cols`
 * (positions) equal ?2, ?3, ... — compared with IS (NULLs equal) when
 * `null_equal` — then `tail` (" LIMIT 1", " ORDER BY id"). */
void crm__sql_find(crm_db *db, crm__buf *sql, const crm__form *form, const int *cols, int n, int null_equal,
		   const char *tail);
/* SELECT 1 for the record of table `table` whose id is ?1. */
void crm__sql_exists(crm__buf *sql, const char *table);
/* SELECT of whole records (the select list), every record. */
void crm__sql_select_all(crm__buf *sql, const crm__form *form);

/* ---- migrations ---- */
/* ALTER TABLE `table` `action` "a" [TO "b"] [type]: ADD COLUMN, DROP COLUMN, RENAME COLUMN. */
void crm__sql_alter(crm__buf *sql, const char *table, const char *action, const char *a, const char *b,
		    const char *type);
void crm__sql_drop_index(crm__buf *sql, const char *name);
/* SELECT id, "column" of the records where the column has a value. */
void crm__sql_column_values(crm__buf *sql, const char *table, const char *column);
/* UPDATE "table" SET "column" = ?1 [WHERE id = ?2]. */
void crm__sql_set_column(crm__buf *sql, const char *table, const char *column, int by_id);

/* Prepared statements owned by the form (made on first use). */
crm__stmt *crm__form_insert_stmt(crm_db *db, crm__form *form);
/* The INSERT of a record: fields, created_at, updated_at, owner, then
 * version 1; with `restore`, version and id are parameters after owner
 * (a deleted record brought back under its id). */
void crm__sql_insert(crm_db *db, crm__buf *sql, const crm__form *form, int restore);
crm__stmt *crm__form_get_stmt(crm_db *db, crm__form *form);
/* Append the record in the current row of `st` (laid out as the select
 * list, starting at column 0) as a JSON object; `show` (NULL: all) says
 * per field position, then owner, which to write (the actor's readable
 * ones). */
void crm__row_write_json(crm__buf *out, const crm__form *form, crm__stmt *st, const unsigned char *show);

#endif
