#include "test.h"
TEST(test_validate__placeholder) { CHECK(1); }
TEST_LIST(T(test_validate__placeholder))
