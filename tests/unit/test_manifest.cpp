// models/manifest.json: the built-in entries and a malformed manifest.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "yamiro/error.hpp"
#include "yamiro/manifest.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;

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
