/* Field constraints against the official JSON-Schema-Test-Suite (draft
 * 2020-12; tests/data/json-schema-test-suite, see its README): each schema
 * whose keywords map to a field definition becomes a form with one field
 * "v", and each case inserts {"v": data}, which must succeed exactly when
 * the suite says the data is valid.
 *
 * Mapping: pattern, minLength, maxLength -> a text field; minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum -> a number field, and also an integer
 * and a decimal (scale 4) field when the bound and the data fit them;
 * format email -> email; format uri and iri -> url.
 * Counted, not run:
 *   - keyword: the schema uses a keyword with no field counterpart ($ref,
 *     patternProperties, ...);
 *   - type: the data is of another JSON type than the field holds (JSON
 *     Schema ignores it; a field refuses it with code "type").
 * Run with the opposite expectation, and counted: the documented
 * deviations of our types (docs/metadata.md, "Types"), listed below. */
#include <math.h>

#include <cJSON.h>

#include "helpers.h"
#include "test.h"

#ifndef CRM_JSON_SCHEMA_SUITE
#error "CRM_JSON_SCHEMA_SUITE: the folder of the vendored suite"
#endif

/* Where our types knowingly differ from JSON Schema's formats. */
static struct deviation {
	const char *file, *data, *why;
	int used;
} deviations[] = {
	{ "email", "test@io", "an email domain has at least two labels", 0 },
	{ "email", "a\xc3\xa9@iana.org", "email is internationalised (RFC 6531, JSON Schema's idn-email)", 0 },
	{ "email", "a@\xc3\xa9.org", "email is internationalised (RFC 6531, JSON Schema's idn-email)", 0 },
	{ "email", "", "an empty string is no value", 0 },
	{ "uri", "ftp://ftp.is.co.za/rfc/rfc1808.txt", "url is http or https", 0 },
	{ "uri", "ldap://[2001:db8::7]/c=GB?objectClass?one", "url is http or https", 0 },
	{ "uri", "mailto:John.Doe@example.com", "url is http or https", 0 },
	{ "uri", "news:comp.infosystems.www.servers.unix", "url is http or https", 0 },
	{ "uri", "tel:+1-816-555-1212", "url is http or https", 0 },
	{ "uri", "urn:oasis:names:specification:docbook:dtd:xml:4.1.2", "url is http or https", 0 },
	{ "uri", "http://:80", "a url has a host", 0 },
	{ "uri", "http://user@", "a url has a host", 0 },
	{ "uri", "https://example.org/foobar\xc2\xae.txt", "url is internationalised (RFC 3987, JSON Schema's iri)", 0 },
	{ "iri", "urn:example:resource", "url is http or https", 0 },
	{ "iri", "file:/etc/hosts", "url is http or https", 0 },
};
#define NDEV (sizeof deviations / sizeof *deviations)

static int n_run, n_keyword, n_type, n_deviation;

static struct deviation *deviation_of(const char *file, const cJSON *data)
{
	for (size_t i = 0; i < NDEV; i++)
		if (cJSON_IsString(data) && strcmp(deviations[i].file, file) == 0 &&
		    strcmp(deviations[i].data, data->valuestring) == 0)
			return &deviations[i];
	return NULL;
}

static cJSON *load(const char *path)
{
	char full[512];
	FILE *f;
	char *text;
	long size;
	cJSON *json = NULL;

	snprintf(full, sizeof full, "%s/%s", CRM_JSON_SCHEMA_SUITE, path);
	if (!(f = fopen(full, "rb"))) {
		fprintf(stderr, "cannot open %s\n", full);
		test_failures_++;
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if ((text = malloc((size_t)size + 1)) && fread(text, 1, (size_t)size, f) == (size_t)size) {
		text[size] = 0;
		json = cJSON_Parse(text);
	}
	free(text);
	fclose(f);
	if (!json) {
		fprintf(stderr, "cannot parse %s\n", full);
		test_failures_++;
	}
	return json;
}

/* The field type a schema maps to, with its keywords copied into `field`;
 * NULL (and `why` set) when a keyword has no counterpart. */
static const char *map_schema(const cJSON *schema, cJSON *field, const char **why)
{
	static const char *const numeric[][2] = { { "minimum", "min" }, { "maximum", "max" },
						  { "exclusiveMinimum", "exclusive_min" },
						  { "exclusiveMaximum", "exclusive_max" } };
	static const char *const texty[][2] = { { "pattern", "pattern" }, { "minLength", "min_length" },
						{ "maxLength", "max_length" } };
	const char *type = NULL;
	const cJSON *kw;

	cJSON_ArrayForEach(kw, schema)
	{
		int mapped = strcmp(kw->string, "$schema") == 0;

		for (int i = 0; i < 4 && !mapped; i++)
			if (strcmp(kw->string, numeric[i][0]) == 0) {
				cJSON_AddItemToObject(field, numeric[i][1], cJSON_Duplicate(kw, 1));
				type = "number";
				mapped = 1;
			}
		for (int i = 0; i < 3 && !mapped; i++)
			if (strcmp(kw->string, texty[i][0]) == 0) {
				cJSON_AddItemToObject(field, texty[i][1], cJSON_Duplicate(kw, 1));
				type = "text";
				mapped = 1;
			}
		if (!mapped && strcmp(kw->string, "type") == 0 && cJSON_IsString(kw) && strcmp(kw->valuestring, "string") == 0)
			mapped = 1;
		if (!mapped && strcmp(kw->string, "format") == 0 && cJSON_IsString(kw)) {
			type = strcmp(kw->valuestring, "email") == 0 ? "email"
			       : strcmp(kw->valuestring, "uri") == 0 || strcmp(kw->valuestring, "iri") == 0 ? "url"
																	: NULL;
			mapped = type != NULL;
		}
		if (!mapped) {
			*why = kw->string;
			return NULL;
		}
	}
	if (!type)
		*why = "(no constraint)";
	return type;
}

/* Does a JSON number fit field type `type` exactly (integer; decimal of scale 4)? */
static int fits(const cJSON *v, const char *type)
{
	double scaled = strcmp(type, "integer") == 0 ? v->valuedouble : v->valuedouble * 1e4;

	if (strcmp(type, "number") == 0)
		return 1;
	return fabs(scaled) < 9e15 && fabs(scaled - round(scaled)) < 1e-6;
}

/* Run one group's cases against field type `type` (the field definition is
 * `field` without its type). */
static void run_group(const char *file, const cJSON *group, cJSON *field, const char *type)
{
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(group, "tests"), *t, *kw;
	const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(group, "description"));
	int numeric = strcmp(type, "integer") == 0 || strcmp(type, "decimal") == 0 || strcmp(type, "number") == 0;
	crm_db *db;
	char *def, *value;
	cJSON *form, *fields, *f;

	/* an integer or decimal field only where every bound fits it */
	cJSON_ArrayForEach(kw, field)
	{
		if (cJSON_IsNumber(kw) && numeric && !fits(kw, type))
			return;
	}
	f = cJSON_Duplicate(field, 1);
	cJSON_AddStringToObject(f, "name", "v");
	cJSON_AddStringToObject(f, "type", type);
	if (strcmp(type, "decimal") == 0)
		cJSON_AddNumberToObject(f, "scale", 4);
	form = cJSON_CreateObject();
	cJSON_AddStringToObject(form, "form", "t");
	fields = cJSON_AddArrayToObject(form, "fields");
	cJSON_AddItemToArray(fields, f);
	def = cJSON_PrintUnformatted(form);
	cJSON_Delete(form);
	db = test_db();
	if (crm_apply(db, def) != CRM_OK) {
		fprintf(stderr, "%s: \"%s\" as %s: definition refused: %s\n", file, desc, type, crm_errdetail(db));
		test_failures_++;
		goto done;
	}
	cJSON_ArrayForEach(t, tests)
	{
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(t, "data");
		int valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "valid")), rc;
		struct deviation *dev = deviation_of(file, data);
		char json[4096];

		if (numeric ? !cJSON_IsNumber(data) : !cJSON_IsString(data)) {
			n_type++;
			continue;
		}
		if (numeric && !fits(data, type))
			continue; /* not a value of this field type: covered by the number field */
		value = cJSON_PrintUnformatted(data);
		snprintf(json, sizeof json, "{\"v\":%s}", value);
		free(value);
		rc = crm_record_insert(db, "t", json, NULL);
		if (dev) {
			dev->used = 1;
			n_deviation++;
			valid = !valid;
		} else
			n_run++;
		if (rc != (valid ? CRM_OK : CRM_ECONSTRAINT)) {
			fprintf(stderr, "%s: \"%s\" as %s: \"%s\" %s: got %s %s\n", file, desc, type,
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "description")),
				valid ? "must be accepted" : "must be refused", crm_errstr(rc), crm_errdetail(db));
			test_failures_++;
		}
	}
done:
	crm_close(db);
	cJSON_free(def);
}

static void run_file(const char *path, const char *name)
{
	cJSON *groups = load(path), *group;

	cJSON_ArrayForEach(group, groups)
	{
		cJSON *field = cJSON_CreateObject();
		const char *why = NULL, *type = map_schema(cJSON_GetObjectItemCaseSensitive(group, "schema"), field, &why);

		if (!type) {
			const cJSON *t;
			cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(group, "tests")) n_keyword++;
			fprintf(stderr, "  skipped \"%s\": keyword %s is not mapped\n",
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(group, "description")), why);
		} else if (strcmp(type, "number") == 0) {
			run_group(name, group, field, "number");
			run_group(name, group, field, "integer");
			run_group(name, group, field, "decimal");
		} else
			run_group(name, group, field, type);
		cJSON_Delete(field);
	}
	cJSON_Delete(groups);
}

TEST(test_json_schema_suite__field_constraints_agree_with_the_official_cases)
{
	static const char *const files[][2] = {
		{ "pattern.json", "pattern" },
		{ "minLength.json", "minLength" },
		{ "maxLength.json", "maxLength" },
		{ "minimum.json", "minimum" },
		{ "maximum.json", "maximum" },
		{ "exclusiveMinimum.json", "exclusiveMinimum" },
		{ "exclusiveMaximum.json", "exclusiveMaximum" },
		{ "optional/ecmascript-regex.json", "ecmascript-regex" },
		{ "optional/format/email.json", "email" },
		{ "optional/format/uri.json", "uri" },
		{ "optional/format/iri.json", "iri" },
	};

	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		run_file(files[i][0], files[i][1]);
	for (size_t i = 0; i < NDEV; i++)
		if (!deviations[i].used) {
			fprintf(stderr, "deviation %s \"%s\" matches no case\n", deviations[i].file, deviations[i].data);
			test_failures_++;
		}
	printf("json-schema-test-suite: %d cases run, %d documented deviations run, %d skipped "
	       "(%d: keyword not mapped, %d: data of another JSON type)\n",
	       n_run, n_deviation, n_keyword + n_type, n_keyword, n_type);
	CHECK(n_run > 250);
}

TEST_LIST(T(test_json_schema_suite__field_constraints_agree_with_the_official_cases))
