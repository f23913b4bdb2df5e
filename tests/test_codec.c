#include "test.h"
TEST(test_codec__placeholder) { CHECK(1); }
TEST_LIST(T(test_codec__placeholder))
