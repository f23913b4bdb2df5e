/* placeholder until written */
#include "crm/common.h"
