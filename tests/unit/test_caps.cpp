// Size caps before allocation (issue #7): oversized model files are refused from their
// size alone (sparse files, so nothing big is written), out-of-range numbers in ncnn
// headers are errors rather than undefined conversions, and error messages stay one
// line whatever the file quotes. The fuzz targets (tests/fuzz) found the ncnn cases.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <climits>
#include <fstream>

#include "golden/fixtures.hpp"
#include "models/ncnn.hpp"
#include "models/readers.hpp"
#include "temp_dir.hpp"
#include "yamiro/error.hpp"
#include "yamiro/image_header.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;

namespace {

class Caps : public TempDirTest {
 protected:
  // A file of `size` bytes that starts with `head` and takes no disk space.
  std::string sparse(const std::string& name, const std::vector<unsigned char>& head, std::uint64_t size) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(head.data()), static_cast<std::streamsize>(head.size()));
    fs::resize_file(p, size);
    return p;
  }
};

template <typename F>
std::string model_error(F&& load) {
  try {
    load();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_F(Caps, OversizedModelFilesAreRefusedBeforeReading) {
  const auto param = read_bytes(fixture("compact-x4-nc4-nf16.param"));
  const auto bin = read_bytes(fixture("compact-x4-nc4-nf16.bin"));
  const std::uint64_t over4g = (4ull << 30) + 1;

  const std::string big_bin = sparse("m.bin", bin, over4g);
  const std::string p = sparse("m.param", param, param.size());
  std::string e = model_error([&] { load_ncnn(p, big_bin); });
  EXPECT_TRUE(has(e, "m.bin") && has(e, "larger than 4096 MiB")) << e;

  const std::string big_param = sparse("big.param", param, (64ull << 20) + 1);
  e = model_error([&] { load_ncnn(big_param, (dir_ / "m.bin").string()); });
  EXPECT_TRUE(has(e, "big.param") && has(e, "larger than 64 MiB")) << e;

  const std::string pth = sparse("m.pth", read_bytes(fixture("compact-x2-nc2-nf8.pth")), over4g);
  e = model_error([&] { load_pytorch(pth); });
  EXPECT_TRUE(has(e, "m.pth") && has(e, "larger than 4096 MiB")) << e;

  const std::string st = sparse("m.safetensors", read_bytes(fixture("compact-x2-nc2-nf8.safetensors")), over4g);
  e = model_error([&] { load_safetensors(st); });
  EXPECT_TRUE(has(e, "m.safetensors") && has(e, "larger than 4096 MiB")) << e;
}

TEST(NcnnNumbers, OutOfRangeValuesAreErrors) {
  const std::string head = "7767517\n2 2\nInput in 0 1 a\n";
  for (const std::string token : {"6000000000000000000000000000=432", "32=1", "-23332=1,5", "1.5=3", "-1=2"}) {
    const std::string e = model_error([&] { ncnn::parse_param(head + "Convolution c 1 1 a b " + token + "\n", "x.param"); });
    EXPECT_TRUE(has(e, "x.param") && has(e, "bad parameter id")) << token << ": " << e;
  }
  // Known ids at both ends still parse.
  const auto g = ncnn::parse_param(head + "Convolution c 1 1 a b 0=1 30=2 -23331=2,7,8\n", "x.param");
  EXPECT_EQ(g.layers.at(1).param(30, 0), 2);
  EXPECT_EQ(g.layers.at(1).params.at(31), (std::vector<double>{7, 8}));

  // Convolution sizes beyond int are reported, not converted.
  auto conv = ncnn::parse_param(head + "Convolution c 1 1 a b 0=1e300 1=3 5=1 6=9\n", "x.param");
  std::string e = model_error([&] { ncnn::read_weights(conv, std::vector<unsigned char>(64), "x.bin"); });
  EXPECT_TRUE(has(e, "x.bin") && has(e, "1e+300") && has(e, "not a whole number in")) << e;

  // A PixelShuffle factor beyond int.
  const auto text = read_bytes(fixture("compact-x4-nc4-nf16.param"));
  std::string huge(text.begin(), text.end());
  const auto at = huge.find("0=4", huge.find("PixelShuffle"));
  ASSERT_NE(at, std::string::npos);
  huge.replace(at, 3, "0=1e300");
  e = model_error([&] { ncnn_from_bytes(huge, read_bytes(fixture("compact-x4-nc4-nf16.bin")), "x.param", "x.bin"); });
  EXPECT_TRUE(has(e, "x.param") && has(e, "PixelShuffle")) << e;
}

TEST(ErrorMessages, AreOneLineAndBounded) {
  const Error e(ErrorKind::Model, "a\nb\rc\x01" + std::string("d\te"));
  EXPECT_EQ(std::string(e.what()), "a\\nb\\rc\\x01d\te");
  const Error big(ErrorKind::Input, std::string(100000, 'x'));
  EXPECT_LE(std::string(big.what()).size(), 2010u);
  EXPECT_EQ(std::string(big.what()).substr(2000), "...");
  // A zip entry name with a line break (a crafted checkpoint) stays on one line.
  std::vector<unsigned char> zip = read_bytes(fixture("compact-x2-nc2-nf8.pth"));
  const std::string err = model_error([&] { pytorch_from_bytes(std::vector<unsigned char>(zip.begin(), zip.begin() + 40), "evil\nname.pth"); });
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST(PixelLimit, HugeHeadersDoNotOverflow) {
  const std::int64_t def = 16384LL * 16384LL;
  EXPECT_TRUE(exceeds_pixels({"png", 0xFFFFFFFFLL, 0xFFFFFFFFLL}, def));
  EXPECT_TRUE(exceeds_pixels({"png", 0xFFFFFFFFLL, 0xFFFFFFFFLL}, INT64_MAX));  // 1.8e19 > INT64_MAX
  EXPECT_TRUE(exceeds_pixels({"png", 16385, 16384}, def));
  EXPECT_FALSE(exceeds_pixels({"png", 16384, 16384}, def));
  EXPECT_TRUE(exceeds_pixels({"bmp", 0, 10}, def));
  // A PNG header claiming 4294967295 x 4294967295 is refused from its header.
  std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 8, 2, 0, 0, 0};
  const auto h = probe_image_header(png);
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(exceeds_pixels(*h, def));
}
