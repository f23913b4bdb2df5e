/*
 * libcrm — an embeddable no-code engine: forms, workflows and reports
 * configured by JSON metadata and Lua. Include this umbrella header.
 */
#ifndef CRM_H
#define CRM_H

#include "crm/common.h"
#include "crm/db.h"
#include "crm/form.h"
#include "crm/query.h"
#include "crm/workflow.h"
#include "crm/report.h"
#include "crm/plugin.h"
#include "crm/event.h"
#include "crm/access.h"
#include "crm/audit.h"
#include "crm/io.h"

#endif
