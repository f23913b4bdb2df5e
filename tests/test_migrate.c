#include "test.h"
TEST(test_migrate__placeholder) { CHECK(1); }
TEST_LIST(T(test_migrate__placeholder))
