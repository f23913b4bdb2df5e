/* The public headers compile alone, in strict C11, with nothing before
 * them: a host needs only <crm.h>. */
#include <crm.h>

int main(void)
{
	crm_open_options opts = CRM_OPEN_OPTIONS_INIT;

	return crm_libversion_number() == CRM_VERSION_NUMBER && opts.version == CRM_OPEN_OPTIONS_VERSION ? 0 : 1;
}
