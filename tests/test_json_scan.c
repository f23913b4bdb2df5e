#include "test.h"
TEST(test_json_scan__placeholder) { CHECK(1); }
TEST_LIST(T(test_json_scan__placeholder))
