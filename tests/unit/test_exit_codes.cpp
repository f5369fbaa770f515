// The exit code of each error kind (the README's "Exit codes" table).
#include <gtest/gtest.h>

#include "yamiro/error.hpp"

using namespace yamiro;

TEST(ExitCodes, MatchTheSpec) {
  EXPECT_EQ(exit_code(ErrorKind::Input), 1);
  EXPECT_EQ(exit_code(ErrorKind::Io), 1);
  EXPECT_EQ(exit_code(ErrorKind::Usage), 2);
  EXPECT_EQ(exit_code(ErrorKind::Model), 3);
  EXPECT_EQ(exit_code(ErrorKind::Device), 4);
  EXPECT_EQ(exit_code(ErrorKind::Interrupted), 130);
}
