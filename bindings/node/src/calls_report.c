/* The calls of the report engine that answer in one piece (rows stream through cursor.c). */
#include "addon.h"

static int list(crm_db *db, ncall *a) { return crm_report_list(db, &a->out); }
static int get(crm_db *db, ncall *a) { return crm_report_get(db, a->s[0], &a->out); }
static int output(crm_db *db, ncall *a) { return crm_report_output(db, a->s[0], a->s[1], a->s[2], &a->out); }
static int explain(crm_db *db, ncall *a) { return crm_report_explain(db, a->s[0], a->s[1], &a->out); }
static int drill(crm_db *db, ncall *a) { return crm_report_drill(db, a->s[0], a->s[1], a->s[2], &a->out); }

const ncall_def ncalls_report[] = {
	{"reportList", "", 'j', list},
	{"reportGet", "s", 'j', get},
	{"reportOutput", "sjs", 't', output},
	{"reportExplain", "sj", 'j', explain},
	{"reportDrill", "sjj", 'j', drill},
	{NULL, NULL, 0, NULL},
};
