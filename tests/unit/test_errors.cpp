#include <gtest/gtest.h>

#include "yamiro/error.hpp"

#include <unistd.h>

using namespace yamiro;

TEST(ExitCodes, MatchTheSpec) {
  EXPECT_EQ(exit_code(ErrorKind::Input), 1);
  EXPECT_EQ(exit_code(ErrorKind::Io), 1);
  EXPECT_EQ(exit_code(ErrorKind::Usage), 2);
  EXPECT_EQ(exit_code(ErrorKind::Model), 3);
  EXPECT_EQ(exit_code(ErrorKind::Device), 4);
  EXPECT_EQ(exit_code(ErrorKind::Interrupted), 130);
}

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "yamiro/manifest.hpp"
#include "yamiro/model.hpp"
#include "yamiro/sha256.hpp"

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(two_blocks.data(), two_blocks.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million.data(), million.size()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Manifest, BuiltinsMatchAndEveryEntryHasFiles) {
  const auto entries = read_manifest(manifest_path());
  std::vector<std::string> builtin;
  for (const auto& e : entries) {
    EXPECT_FALSE(e.files.empty()) << e.name;
    EXPECT_GT(e.scale, 0) << e.name;
    if (e.builtin) {
      builtin.push_back(e.name);
      for (const auto& f : e.files) EXPECT_EQ(f.sha256.size(), 64u) << f.name;
    }
  }
  auto names = builtin_model_names();
  std::sort(names.begin(), names.end());
  std::sort(builtin.begin(), builtin.end());
  EXPECT_EQ(builtin, names);
}

TEST(Manifest, MalformedIsAModelError) {
  const std::string p = "/tmp/yamiro-bad-manifest-" + std::to_string(::getpid()) + ".json";
  std::ofstream(p) << "{\"models\": [{\"name\": \"x\"}]}";
  try {
    read_manifest(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
  }
  std::remove(p.c_str());
}
