/*
 * libcrm — Lua plugins: named tables of functions that forms, workflows and
 * other plugins call ("routing.assign"). They are applied with crm_apply
 * ({"plugin": NAME, "lua": SOURCE}); docs/workflow.md describes them.
 */
#ifndef CRM_PLUGIN_H
#define CRM_PLUGIN_H

#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A JSON array of {"plugin","version","label"} for every plugin (latest versions, by name), in *out (crm_free). */
CRM_EXTERN(int) crm_plugin_list(crm_db *db, char **out);
/** The latest stored definition of plugin `name` ({"plugin","lua",...}), in *out (crm_free); CRM_ENOTFOUND when there is none. */
CRM_EXTERN(int) crm_plugin_get(crm_db *db, const char *name, char **out);

#ifdef __cplusplus
}
#endif
#endif
