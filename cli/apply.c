/* `crm apply [--plan] [--allow-data-loss] PATH...`: gather every metadata
 * document from files and directories (recursively, *.json and *.lua
 * plugins in sorted path order, hidden entries skipped) into one JSON array
 * and apply it with a single crm_apply_v2 call, so references between files
 * resolve and the whole set is atomic. It prints what changed (or, with
 * --plan, what would). Every error names the file its document came from,
 * with line, column and byte offset in that file for syntax errors. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_DEPTH 32 /* guards against symlink loops */

typedef struct path_list {
	char **v;
	size_t n, cap;
} path_list;

static void list_add(path_list *l, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = cli_xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = path;
}

static void list_free(path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && strcmp(name + n - k, suffix) == 0;
}

/* Metadata files: JSON documents, and Lua plugins (plugins/routing.lua is
 * the plugin "routing"). */
static int is_metadata(const char *name) { return has_suffix(name, ".json") || has_suffix(name, ".lua"); }

static int walk(const char *dir, int depth, path_list *out)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return cli_error(CRM_EINVAL, "%s: directories nest deeper than %d", dir, MAX_DEPTH);
	if (!(d = opendir(dir)))
		return cli_error(CRM_EIO, "cannot open directory %s: %s", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;
		cli_buf path = CLI_BUF_INIT;

		if (e->d_name[0] == '.')
			continue;
		cli_buf_printf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
		if (stat(path.p, &st) != 0)
			rc = cli_error(CRM_EIO, "cannot stat %s: %s", path.p, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = walk(path.p, depth + 1, out);
		else if (S_ISREG(st.st_mode) && is_metadata(e->d_name)) {
			list_add(out, path.p);
			continue; /* the list owns the string now */
		}
		cli_buf_free(&path);
	}
	closedir(d);
	return rc;
}

/* Expand the command line's paths into the files to read, in order. */
static int collect(int n, const char **paths, path_list *files)
{
	for (int i = 0; i < n; i++) {
		struct stat st;
		path_list found = { 0 };
		int rc;

		if (strcmp(paths[i], "-") == 0) {
			list_add(files, cli_xstrdup("-"));
			continue;
		}
		if (stat(paths[i], &st) != 0)
			return cli_error(CRM_EIO, "cannot open %s: %s", paths[i], strerror(errno));
		if (!S_ISDIR(st.st_mode)) {
			list_add(files, cli_xstrdup(paths[i])); /* named explicitly: any extension */
			continue;
		}
		rc = walk(paths[i], 0, &found);
		if (found.n)
			qsort(found.v, found.n, sizeof *found.v, cmp_path);
		for (size_t k = 0; k < found.n; k++)
			list_add(files, found.v[k]);
		free(found.v);
		if (rc)
			return rc;
	}
	return 0;
}

/* Where each file's text sits in the gathered array, to map error offsets
 * and document indexes back. */
typedef struct segment {
	const char *file;
	size_t at;        /* offset in the gathered text */
	size_t len;
	size_t skipped;    /* bytes of the file before the copied part */
	const char *whole; /* the file's text (NULL for a plugin file) */
	size_t first_doc;  /* index of its first document in the gathered array */
	size_t ndocs;
} segment;

/*
 * Append one file's documents to `all`: an object as one element, an array
 * as its elements. Counts the documents into *count. Returns 0 or an exit code.
 */
static int gather(const char *file, const char *text, size_t len, cli_buf *all, size_t *count, segment *seg)
{
	size_t start = cli_json_ws(text, len, 0), end = start, inner_start, inner_end, pos;

	seg->file = file;
	seg->first_doc = *count;

	if (len - start >= 3 && memcmp(text + start, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
		start = end = cli_json_ws(text, len, start + 3);
	if (start == len)
		return cli_error(CRM_EINVAL, "%s: no JSON document", file);
	if (cli_json_skip(text, len, &end) != 0)
		return cli_error(CRM_EINVAL, "%s: unterminated JSON (unbalanced brackets or an open string)", file);
	if (cli_json_ws(text, len, end) != len)
		return cli_error(CRM_EINVAL, "%s: more than one JSON value (wrap several documents in an array)",
				 file);
	if (text[start] != '[') {
		inner_start = start;
		inner_end = end;
		(*count)++;
	} else {
		inner_start = cli_json_ws(text, len, start + 1);
		inner_end = end - 1; /* the closing ']' */
		while (inner_end > inner_start && strchr(" \t\r\n", text[inner_end - 1]))
			inner_end--;
		/* count the top-level elements (the library checks the rest of the grammar) */
		for (pos = inner_start; pos < inner_end;) {
			if (cli_json_skip(text, inner_end, &pos) != 0)
				break;
			(*count)++;
			pos = cli_json_ws(text, inner_end, pos);
			if (pos < inner_end && text[pos] == ',')
				pos++;
			else
				break;
		}
	}
	seg->ndocs = *count - seg->first_doc;
	if (inner_end > inner_start) {
		if (all->len > 1)
			cli_buf_puts(all, ",\n");
		seg->at = all->len;
		seg->len = inner_end - inner_start;
		seg->whole = text;
		seg->skipped = inner_start;
		cli_buf_put(all, text + inner_start, inner_end - inner_start);
	}
	return 0;
}

/* A Lua file becomes the document {"plugin": <file name without .lua>, "lua": <text>}. */
static void gather_plugin(const char *file, const char *text, cli_buf *all, size_t *count, segment *seg)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char *name = cli_xstrdup(base);

	seg->file = file;
	seg->first_doc = *count;
	seg->ndocs = 1;

	name[strlen(name) - 4] = 0;
	if (all->len > 1)
		cli_buf_puts(all, ",\n");
	cli_buf_puts(all, "{\"plugin\":");
	cli_buf_json_str(all, name);
	cli_buf_puts(all, ",\"lua\":");
	cli_buf_json_str(all, text);
	cli_buf_puts(all, "}");
	(*count)++;
	free(name);
}

/* `text` with the first `"key":<digits>` (a member the library adds)
 * given the value `value`, into `out`. */
static void put_replacing_number(cli_buf *out, const char *text, const char *key, long long value)
{
	const char *at = strstr(text, key), *end;

	if (!at) {
		cli_buf_puts(out, text);
		return;
	}
	end = at + strlen(key);
	while (*end >= '0' && *end <= '9')
		end++;
	cli_buf_put(out, text, (size_t)(at - text));
	cli_buf_printf(out, "%s%lld", key, value);
	cli_buf_puts(out, end);
}

/*
 * Report a failed apply against the file the failing document came from:
 * "crm: FILE:LINE:COL: message" for a syntax error (its byte offset made
 * relative to the file), "crm: FILE: message" (with the document's index
 * in the file when it holds several) for the rest; the detail gains "file"
 * and its "document" and "offset" count within that file.
 */
static int apply_error(crm_db *db, int rc, const segment *segs, size_t nsegs)
{
	const char *detail = crm_errdetail(db), *doc_at = strstr(detail, "\"document\":");
	int off = crm_erroffset(db);
	long long doc = doc_at ? atoll(doc_at + 11) : -1;
	const segment *s = NULL;
	cli_buf msg = CLI_BUF_INIT, det = CLI_BUF_INIT, tmp = CLI_BUF_INIT;
	size_t at = 0, line = 1, col = 1;

	for (size_t i = 0; i < nsegs && !s; i++) {
		const segment *g = &segs[i];
		if (!g->file)
			continue;
		if (off >= 0 && g->whole && (size_t)off >= g->at && (size_t)off <= g->at + g->len)
			s = g;
		else if (off < 0 && doc >= 0 && (size_t)doc >= g->first_doc && (size_t)doc < g->first_doc + g->ndocs)
			s = g;
	}
	if (!s)
		return cli_lib_error(db, rc);
	if (off >= 0) {
		at = s->skipped + ((size_t)off - s->at);
		for (size_t k = 0; k < at; k++) {
			if (s->whole[k] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		put_replacing_number(&msg, crm_errmsg(db), "at byte ", (long long)at);
		cli_buf_printf(&tmp, "%s:%zu:%zu", s->file, line, col);
	} else {
		cli_buf_puts(&msg, crm_errmsg(db));
		cli_buf_puts(&tmp, s->file);
		if (s->ndocs > 1)
			cli_buf_printf(&tmp, " (document %lld)", doc - (long long)s->first_doc);
	}
	/* the detail: the library's, counted within the file, naming it */
	put_replacing_number(&det, detail, "\"document\":", doc - (long long)s->first_doc);
	if (off >= 0) {
		cli_buf tmp2 = CLI_BUF_INIT;
		put_replacing_number(&tmp2, cli_buf_cstr(&det), "at byte ", (long long)at);
		cli_buf_free(&det);
		det = tmp2;
	}
	if (det.len && det.p[det.len - 1] == '}') {
		det.len--;
		cli_buf_puts(&det, ",\"file\":");
		cli_buf_json_str(&det, s->file);
		if (off >= 0)
			cli_buf_printf(&det, ",\"offset\":%zu,\"line\":%zu,\"column\":%zu", at, line, col);
		cli_buf_puts(&det, "}");
	}
	fprintf(stderr, "crm: %s: %s\n%s\n", cli_buf_cstr(&tmp), cli_buf_cstr(&msg), cli_buf_cstr(&det));
	cli_buf_free(&msg);
	cli_buf_free(&det);
	cli_buf_free(&tmp);
	return cli_exit_code(crm_errcode(db) ? crm_errcode(db) : rc);
}

int cli_verb_apply(cli *c, int argc, char **argv)
{
	const char **paths = cli_xmalloc((size_t)argc * sizeof *paths);
	path_list files = { 0 };
	char **texts = NULL, *summary = NULL;
	segment *segs = NULL;
	cli_buf all = CLI_BUF_INIT;
	size_t count = 0;
	int npos = 0, stdin_count = 0, plan = 0, allow_loss = 0, rc;
	const cli_opt opts[] = { { "--plan", NULL, &plan, NULL },
				 { "--allow-data-loss", NULL, &allow_loss, NULL },
				 { NULL, NULL, NULL, NULL } };

	rc = cli_parse_args(argc, argv, opts, paths, 0, argc, &npos);
	if (rc == 0 && npos == 0)
		paths[npos++] = "-"; /* no path: the documents come on stdin */
	for (int i = 0; rc == 0 && i < npos; i++)
		if (strcmp(paths[i], "-") == 0 && ++stdin_count > 1)
			rc = cli_usage_error("apply: stdin ('-') can be read only once");
	if (rc == 0)
		rc = collect(npos, paths, &files);
	if (rc == 0) {
		texts = cli_xmalloc(files.n * sizeof *texts);
		segs = cli_xmalloc(files.n * sizeof *segs);
		memset(texts, 0, files.n * sizeof *texts);
		memset(segs, 0, files.n * sizeof *segs);
		cli_buf_puts(&all, "[");
	}
	for (size_t i = 0; rc == 0 && i < files.n; i++) {
		size_t len;

		rc = cli_read_file(files.v[i], &texts[i], &len);
		if (rc == 0 && has_suffix(files.v[i], ".lua"))
			gather_plugin(files.v[i], texts[i], &all, &count, &segs[i]);
		else if (rc == 0)
			rc = gather(strcmp(files.v[i], "-") ? files.v[i] : "stdin", texts[i], len, &all, &count,
				    &segs[i]);
	}
	if (rc == 0 && count == 0)
		printf("{\"changed\":0,\"data_loss\":false,\"documents\":[]}\n");
	else if (rc == 0) {
		crm_apply_options o = CRM_APPLY_OPTIONS_INIT;

		cli_buf_puts(&all, "]");
		o.flags = allow_loss ? CRM_APPLY_ALLOW_DATA_LOSS : 0;
		/* A plan for a database not made yet is a plan against an empty
		 * one, made in memory; a plan never creates a file. */
		int create = !plan;

		if (plan && c->db_path && cli_db_is_missing_file(c->db_path)) {
			c->db_path = ":memory:";
			create = 1;
		}
		if ((rc = cli_open(c, create)) == 0) {
			rc = plan ? crm_apply_plan(c->db, all.p, &o, &summary) : crm_apply_v2(c->db, all.p, &o, &summary);
			rc = rc == CRM_OK ? 0 : apply_error(c->db, rc, segs, files.n);
		}
		if (rc == 0)
			printf("%s\n", summary);
		crm_free(summary);
	}
	for (size_t i = 0; texts && i < files.n; i++)
		free(texts[i]);
	free(texts);
	free(segs);
	cli_buf_free(&all);
	list_free(&files);
	free(paths);
	return rc;
}
