// safetensors: F32/F16/BF16 tensors load; header lengths, offsets, overlaps, dtypes
// and shapes that do not add up are Error(Model)s naming the file, never crashes.
#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "golden/fixtures.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

std::string make_safetensors(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// fp32 -> fp16 for values that are exactly representable as normal halves (the
// fixtures' convolution weights were rounded to fp16), else nothing.
bool exact_half(float f, std::uint16_t* out) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  const int exp = static_cast<int>((b >> 23) & 0xFF) - 127;
  const auto sign = static_cast<std::uint16_t>((b >> 16) & 0x8000);
  if (exp < -14) {  // zero or a subnormal half: a multiple of 2^-24 below 2^-14
    const float m = std::fabs(f) * 16777216.0f;
    if (m != std::floor(m) || m >= 1024) return false;
    *out = static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(m));
    return true;
  }
  if (exp > 15 || (b & 0x1FFF)) return false;
  *out = static_cast<std::uint16_t>(((b >> 16) & 0x8000) | ((exp + 15) << 10) | ((b >> 13) & 0x3FF));
  return true;
}

class SafetensorsFiles : public yamiro::test::TempDirTest {
 protected:
  std::string write(const std::string& bytes) {
    const auto p = (dir_ / "m.safetensors").string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Loads through the registry; returns the Error(Model) message, "" if it loaded.
  std::string load(const std::string& bytes) {
    try {
      load_model(write(bytes));
      return "";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
      return e.what();
    }
  }
};

}  // namespace

TEST_F(SafetensorsFiles, MalformedHeadersAreErrors) {
  const std::string one = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string eight = floats({1, 2});
  EXPECT_NE(load(le64(1000) + one + eight).find("larger than the file"), std::string::npos);
  EXPECT_NE(load(le64(~0ull) + one).find("too large"), std::string::npos);
  EXPECT_NE(load("1234567").find("truncated"), std::string::npos);
  EXPECT_NE(load(make_safetensors(one, floats({1}))).find("outside the data"), std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,4]}})", eight)).find("outside"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                  floats({1, 2, 3})))
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", eight)).find("dtype"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}})", eight)).find("dtype"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight)).find("bytes"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
                                  eight))
                .find("larger"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight)).find("shape"),
            std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"a":{"dtype":"F32","shape":[2]}})", eight)).find("data_offsets"), std::string::npos);
  EXPECT_NE(load(make_safetensors("{\"a\":", eight)).find("JSON"), std::string::npos);
  EXPECT_NE(load(make_safetensors("[1,2]", eight)).find("object"), std::string::npos);
  EXPECT_NE(load(make_safetensors(std::string(100000, '['), "")).find("deep"), std::string::npos);
  EXPECT_NE(load(make_safetensors(R"({"__metadata__":{"x":"y"}})", "")).find("no tensors"), std::string::npos);
  // Well-formed, but not a network yamiro knows: the error lists what was found.
  EXPECT_NE(load(make_safetensors(one, eight)).find("a[2]"), std::string::npos);
}

TEST_F(SafetensorsFiles, TruncatedAndFlippedFixturesAreErrors) {
  const auto bytes = read_bytes(fixture("compact-x2-nc2-nf8.safetensors"));
  const std::string good(bytes.begin(), bytes.end());
  EXPECT_EQ(load(good), "");
  for (std::size_t cut = 0; cut < good.size(); cut += (cut < 2048 ? 37 : 997))
    EXPECT_NE(load(good.substr(0, cut)), "") << "cut at " << cut;
  std::uint64_t header = 0;
  std::memcpy(&header, good.data(), 8);
  for (std::size_t i = 0; i < 8 + header; ++i) {  // every header byte: loads or is an Error(Model)
    std::string m = good;
    m[i] = static_cast<char>(m[i] ^ 0x04);
    load(m);
  }
}

TEST_F(SafetensorsFiles, HalfAndBfloat16TensorsLoad) {
  // The fixture rewritten with fp16 convolution weights (exact) and bf16 everything else.
  const auto bytes = read_bytes(fixture("compact-x4-nc4-nf16.safetensors"));
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, bytes.data(), 8);
  const json in = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(hlen));
  const unsigned char* data = bytes.data() + 8 + hlen;
  json out = json::object();
  std::string blob;
  StateDict expected;
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto begin = it.value()["data_offsets"][0].get<std::size_t>(), end = it.value()["data_offsets"][1].get<std::size_t>();
    std::vector<float> v((end - begin) / 4);
    std::memcpy(v.data(), data + begin, end - begin);
    std::vector<std::uint16_t> halves(v.size());
    bool f16 = it.value()["shape"].size() == 4;
    for (std::size_t i = 0; i < v.size() && f16; ++i) f16 = exact_half(v[i], &halves[i]);
    ASSERT_EQ(f16, it.value()["shape"].size() == 4) << it.key();
    for (std::size_t i = 0; i < v.size() && !f16; ++i) {
      std::uint32_t b;
      std::memcpy(&b, &v[i], 4);
      halves[i] = static_cast<std::uint16_t>(b >> 16);  // bf16 by truncation
      b &= 0xFFFF0000u;
      std::memcpy(&v[i], &b, 4);
    }
    out[it.key()] = {{"dtype", f16 ? "F16" : "BF16"},
                     {"shape", it.value()["shape"]},
                     {"data_offsets", {blob.size(), blob.size() + halves.size() * 2}}};
    blob.append(reinterpret_cast<const char*>(halves.data()), halves.size() * 2);
    expected[it.key()] = HostTensor{it.value()["shape"].get<std::vector<std::int64_t>>(), v};
  }
  const Model m = load_model(write(make_safetensors(out.dump(), blob)));
  EXPECT_EQ(m.format, "safetensors");
  EXPECT_EQ(m.info.arch, "SRVGGNetCompact");
  ASSERT_EQ(m.weights.size(), expected.size());
  for (const auto& [k, t] : expected) {
    EXPECT_EQ(m.weights.at(k).shape, t.shape) << k;
    EXPECT_EQ(m.weights.at(k).values, t.values) << k;
  }
}
