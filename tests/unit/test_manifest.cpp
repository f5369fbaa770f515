// models/manifest.json: the built-in entries and a malformed manifest.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

TEST(Manifest, IncludesTheNcnnModelsOfWaifu2x) {
  // models/manifest.json includes ncnn-models.json: the 29 ncnn models are known names.
  const auto entries = read_manifest(manifest_path());
  int ncnn = 0;
  for (const auto& e : entries)
    if (e.sources.size() == 1 && e.sources[0] == "npm:waifu2x@1.6.5") {
      ++ncnn;
      EXPECT_EQ(e.format, "ncnn") << e.name;
      EXPECT_EQ(e.files.size(), 2u) << e.name;
      for (const auto& f : e.files) EXPECT_EQ(f.sha256.size(), 64u) << f.name;
    }
  EXPECT_EQ(ncnn, 29);
}

TEST(Manifest, IncludeMustBeAFileBesideIt) {
  const std::string dir = "/tmp/yamiro-include-" + std::to_string(::getpid());
  std::system(("mkdir -p " + dir).c_str());
  std::ofstream(dir + "/main.json") << R"({"include": ["../etc/passwd"], "models": []})";
  EXPECT_THROW(read_manifest(dir + "/main.json"), Error);
  std::ofstream(dir + "/main.json") << R"({"include": ["more.json"], "models": [{"name": "a", "files": [{"name": "a.pth"}]}]})";
  std::ofstream(dir + "/more.json") << R"({"models": [{"name": "a", "files": [{"name": "b.pth"}]}]})";
  try {
    read_manifest(dir + "/main.json");
    ADD_FAILURE() << "two entries named a were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("two entries named 'a'"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/more.json") << R"({"models": [{"name": "b", "files": [{"name": "b.pth"}]}]})";
  EXPECT_EQ(read_manifest(dir + "/main.json").size(), 2u);
  std::system(("rm -rf " + dir).c_str());
}
