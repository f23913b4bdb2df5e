#include "test.h"
TEST(test_db__placeholder) { CHECK(1); }
TEST_LIST(T(test_db__placeholder))
