#include "test.h"
TEST(test_batch__placeholder) { CHECK(1); }
TEST_LIST(T(test_batch__placeholder))
