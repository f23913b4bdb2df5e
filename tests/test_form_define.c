#include "test.h"
TEST(test_form_define__placeholder) { CHECK(1); }
TEST_LIST(T(test_form_define__placeholder))
