/* Format upgrades of SQLite databases made by earlier libcrm versions. */
#ifndef CRM_BACKEND_SQLITE_UPGRADE_H
#define CRM_BACKEND_SQLITE_UPGRADE_H

#include "crm/db.h"

/* The backend's `upgrade` (see backend.h). */
int crm__sqlite_upgrade(crm_db *db);

#endif
