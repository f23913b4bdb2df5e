#include "test.h"
TEST(test_query__placeholder) { CHECK(1); }
TEST_LIST(T(test_query__placeholder))
