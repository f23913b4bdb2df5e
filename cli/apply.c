/* `crm apply PATH...`: gather every metadata document from files and
 * directories (recursively, *.json and *.lua plugins in sorted path order,
 * hidden entries skipped) into one JSON array and apply it with a single crm_apply call,
 * so references between files resolve and the whole set is atomic. A
 * syntax error is reported against the file and line it came from. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Where each file's text sits in the gathered array, to map error offsets back. */
typedef struct segment {
	const char *file;
	size_t at;        /* offset in the gathered text */
	size_t len;
	size_t skipped;    /* bytes of the file before the copied part */
	const char *whole; /* the file's text */
} segment;

/*
 * Append one file's documents to `all`: an object as one element, an array
 * as its elements. Counts the documents into *count. Returns 0 or an exit code.
 */
static int gather(const char *file, const char *text, size_t len, cli_buf *all, size_t *count, segment *seg)
{
	size_t start = cli_json_ws(text, len, 0), end = start, inner_start, inner_end, pos;

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
	if (inner_end > inner_start) {
		if (all->len > 1)
			cli_buf_puts(all, ",\n");
		seg->file = file;
		seg->at = all->len;
		seg->len = inner_end - inner_start;
		seg->whole = text;
		seg->skipped = inner_start;
		cli_buf_put(all, text + inner_start, inner_end - inner_start);
	}
	return 0;
}

/* A Lua file becomes the document {"plugin": <file name without .lua>, "lua": <text>}. */
static void gather_plugin(const char *file, const char *text, cli_buf *all, size_t *count)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	char *name = cli_xstrdup(base);

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

/* Report a failed crm_apply, naming the file and line when the error has an offset. */
static int apply_error(crm_db *db, int rc, const segment *segs, size_t nsegs)
{
	int off = crm_erroffset(db);

	for (size_t i = 0; off >= 0 && i < nsegs; i++) {
		const segment *s = &segs[i];
		size_t at, line = 1, col = 1;

		if (!s->file || (size_t)off < s->at || (size_t)off > s->at + s->len)
			continue;
		at = s->skipped + ((size_t)off - s->at);
		for (size_t k = 0; k < at; k++) {
			if (s->whole[k] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		fprintf(stderr, "crm: %s:%zu:%zu: %s\n%s\n", s->file, line, col, crm_errmsg(db), crm_errdetail(db));
		return cli_exit_code(crm_errcode(db) ? crm_errcode(db) : rc);
	}
	return cli_lib_error(db, rc);
}

int cli_verb_apply(cli *c, int argc, char **argv)
{
	const char **paths = cli_xmalloc((size_t)argc * sizeof *paths);
	path_list files = { 0 };
	char **texts = NULL;
	segment *segs = NULL;
	cli_buf all = CLI_BUF_INIT;
	size_t count = 0;
	int npos = 0, stdin_count = 0, rc;

	rc = cli_parse_args(argc, argv, NULL, paths, 1, argc, &npos);
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
			gather_plugin(files.v[i], texts[i], &all, &count);
		else if (rc == 0)
			rc = gather(strcmp(files.v[i], "-") ? files.v[i] : "stdin", texts[i], len, &all, &count,
				    &segs[i]);
	}
	if (rc == 0) {
		cli_buf_puts(&all, "]");
		if (count > 0 && (rc = cli_open(c, 1)) == 0) {
			rc = crm_apply(c->db, all.p);
			rc = rc == CRM_OK ? 0 : apply_error(c->db, rc, segs, files.n);
		}
		if (rc == 0)
			printf("{\"applied\":%zu}\n", count);
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
