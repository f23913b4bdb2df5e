#include "test.h"
TEST(test_record__placeholder) { CHECK(1); }
TEST_LIST(T(test_record__placeholder))
