// PyTorch checkpoints: the zip reader, the restricted unpickler and the .pth loader.
// Malicious pickles are refused by the global they name; truncated, corrupt and
// inconsistent files are Error(Model)s, never crashes.
#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "golden/fixtures.hpp"
#include "models/pickle.hpp"
#include "models/tensor_data.hpp"
#include "models/zip.hpp"
#include "yamiro/checksum.hpp"
#include "yamiro/error.hpp"
#include "yamiro/model.hpp"

using namespace yamiro;
using namespace yamiro::test;
namespace fs = std::filesystem;

namespace {

template <std::size_t N>
std::string raw(const char (&s)[N]) { return std::string(s, N - 1); }  // keeps embedded NULs

std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}
std::string le16(std::uint16_t v) { return le32(v).substr(0, 2); }

// A stored zip archive, laid out as simply as the format allows.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, central;
  for (const auto& [name, data] : files) {
    const auto crc = checksum_crc32(0, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    const std::string sizes = le32(crc) + le32(static_cast<std::uint32_t>(data.size())) + le32(static_cast<std::uint32_t>(data.size()));
    central += le32(0x02014b50) + le16(20) + le16(20) + le16(0) + le16(0) + le32(0) + sizes +
               le16(static_cast<std::uint16_t>(name.size())) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0) +
               le32(static_cast<std::uint32_t>(out.size())) + name;
    out += le32(0x04034b50) + le16(20) + le16(0) + le16(0) + le32(0) + sizes +
           le16(static_cast<std::uint16_t>(name.size())) + le16(0) + name + data;
  }
  const auto n = static_cast<std::uint16_t>(files.size());
  return out + central + le32(0x06054b50) + le16(0) + le16(0) + le16(n) + le16(n) +
         le32(static_cast<std::uint32_t>(central.size())) + le32(static_cast<std::uint32_t>(out.size())) + le16(0);
}

// The entries of a real fixture, to rebuild it with one of them changed.
std::vector<std::pair<std::string, std::string>> zip_entries(const std::vector<unsigned char>& bytes) {
  const zip::Archive a({bytes.data(), bytes.size()}, "fixture");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : a.entries()) {
    const auto v = a.read(e);
    out.emplace_back(e.name, std::string(reinterpret_cast<const char*>(v.data), v.size));
  }
  return out;
}

// The pickle of a legacy (pre-1.6) checkpoint up to its main object.
std::string legacy_prefix() {
  return raw("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.") + raw("\x80\x02M\xe9\x03.") + raw("\x80\x02}.");
}

const std::string kOsSystem = raw("\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls" "\x85R.");
const std::string kEval = raw("\x80\x04\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93\x8c\x01" "1" "\x85R.");

std::string unpickle_error(const std::string& p, const pickle::Limits& limits = {}) {
  try {
    pickle::unpickle(reinterpret_cast<const unsigned char*>(p.data()), p.size(), "t.pkl", nullptr, limits);
    return "";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model);
    return e.what();
  }
}

class PthFiles : public yamiro::test::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& bytes) {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  // Loads through the registry; returns the Error(Model) message, "" if it loaded.
  std::string load(const std::string& name, const std::string& bytes) {
    try {
      load_model(write(name, bytes));
      return "";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
      return e.what();
    }
  }
  static std::string text(const std::vector<unsigned char>& b) { return std::string(b.begin(), b.end()); }

};

}  // namespace

TEST(Pickle, RefusesGlobalsOutsideAStateDict) {
  EXPECT_NE(unpickle_error(kOsSystem).find("'os.system'"), std::string::npos) << unpickle_error(kOsSystem);
  EXPECT_NE(unpickle_error(kEval).find("'builtins.eval'"), std::string::npos) << unpickle_error(kEval);
  EXPECT_NE(unpickle_error(raw("\x80\x02" "c__builtin__\nexec\n.")).find("__builtin__.exec"), std::string::npos);
  // An allowed name that is not callable, and a refused one hidden behind an allowed one.
  EXPECT_NE(unpickle_error(raw("\x80\x02" "ctorch\nFloatStorage\n)R.")).find("cannot be called"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02" "ccollections\nOrderedDict\n)R" "csubprocess\nPopen\n.")).find("subprocess.Popen"),
            std::string::npos);
}

TEST(Pickle, MalformedStreamsAreErrors) {
  EXPECT_NE(unpickle_error(raw("\x80\x02X\xff\xff\xff\xff")).find("truncated"), std::string::npos);  // 4 GiB string
  EXPECT_NE(unpickle_error(raw("\x80\x02h\x05.")).find("memo"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02s.")).find("underflow"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02(N.")).find("STOP"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02N")).find("truncated"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02S'x'\n.")).find("opcode 0x53"), std::string::npos);  // text STRING
  EXPECT_NE(unpickle_error(raw("\x80\x02}]Ns.")).find("unhashable"), std::string::npos);
  EXPECT_NE(unpickle_error(raw("\x80\x02K\x01K\x02Q.")).find("persistent id"), std::string::npos);
  std::string deep = "\x80\x02";
  deep += std::string(300, ']') + std::string(299, 'a') + ".";
  EXPECT_NE(unpickle_error(deep).find("nesting"), std::string::npos);
  pickle::Limits small;
  small.max_values = 100;
  EXPECT_NE(unpickle_error("\x80\x02" + std::string(200, 'N'), small).find("values"), std::string::npos);
}

TEST(Pickle, ReadsValuesAndStopsAtStop) {
  // {'a': (1, -2, 3.5, True, None, 'x'), 'b': [300, 2**40]} + trailing bytes.
  const std::string p = raw("\x80\x02}q\x00(X\x01\x00\x00\x00" "a" "(K\x01J\xfe\xff\xff\xff" "G@\x0c\x00\x00\x00\x00\x00\x00"
                            "\x88NX\x01\x00\x00\x00xtX\x01\x00\x00\x00" "b" "]q\x01(M,\x01\x8a\x06\x00\x00\x00\x00\x00\x01"
                            "eu.TRAILING");
  std::size_t used = 0;
  const auto doc = pickle::unpickle(reinterpret_cast<const unsigned char*>(p.data()), p.size(), "t", &used);
  EXPECT_EQ(used, p.size() - 8);
  const pickle::Value* a = doc.root->get("a");
  ASSERT_TRUE(a && a->kind == pickle::Value::Kind::Tuple && a->items.size() == 6);
  EXPECT_EQ(a->items[0]->integer, 1);
  EXPECT_EQ(a->items[1]->integer, -2);
  EXPECT_EQ(a->items[2]->number, 3.5);
  EXPECT_TRUE(a->items[3]->boolean);
  EXPECT_EQ(a->items[4]->kind, pickle::Value::Kind::None);
  EXPECT_EQ(a->items[5]->text, "x");
  const pickle::Value* b = doc.root->get("b");
  ASSERT_TRUE(b && b->items.size() == 2);
  EXPECT_EQ(b->items[0]->integer, 300);
  EXPECT_EQ(b->items[1]->integer, std::int64_t{1} << 40);
  // A list that contains itself is just a value, not a hang or a leak.
  EXPECT_EQ(unpickle_error(raw("\x80\x02]q\x00h\x00" "a.")), "");
}

TEST(Pickle, FuzzedFixturePicklesNeverCrash) {
  const auto bytes = read_bytes(fixture("compact-x2-nc2-nf8.pth"));
  const std::string pkl = zip_entries(bytes).front().second;
  ASSERT_EQ(pkl.substr(0, 2), raw("\x80\x02"));
  for (std::size_t i = 0; i < pkl.size(); ++i) {
    for (const unsigned char x : {0xFFu, 0x01u, 0x80u}) {
      std::string m = pkl;
      m[i] = static_cast<char>(static_cast<unsigned char>(m[i]) ^ x);
      unpickle_error(m);  // either loads or is an Error(Model)
    }
    unpickle_error(pkl.substr(0, i));
  }
}

TEST(TensorData, DecodesHalfBfloatAndStridedViews) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_EQ(bfloat16_to_float(0x3F80), 1.0f);
  const float src[6] = {0, 1, 2, 3, 4, 5};  // 2x3, read transposed as 3x2 from offset 0
  const auto* b = reinterpret_cast<const unsigned char*>(src);
  const HostTensor t = gather_tensor(DType::F32, b, sizeof src, 0, {3, 2}, {1, 3}, "t");
  EXPECT_EQ(t.values, (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(gather_tensor(DType::F32, b, sizeof src, 1, {2, 3}, {3, 1}, "t"), Error);   // one past the end
  EXPECT_THROW(gather_tensor(DType::F32, b, sizeof src, 0, {1000, 1000}, {0, 0}, "t"), Error);  // expanded
  EXPECT_THROW(gather_tensor(DType::F32, b, sizeof src, 0, {2}, {-1}, "t"), Error);
  EXPECT_THROW(gather_tensor(DType::F32, b, sizeof src, 0, {2, 3}, {3}, "t"), Error);
}

TEST(KeyNames, StripsPrefixesAndMapsEsrgan2018) {
  StateDict sd;
  sd["module.conv_first.weight"] = HostTensor{{1}, {1}};
  sd["netG.body.0.weight"] = HostTensor{{1}, {2}};
  const StateDict out = to_basicsr_names(sd);
  EXPECT_EQ(out.count("conv_first.weight"), 1u);
  EXPECT_EQ(out.count("body.0.weight"), 1u);
  sd["conv_first.weight"] = HostTensor{{1}, {3}};
  EXPECT_THROW(to_basicsr_names(sd), Error);

  const Model old = load_model(fixture("rrdb-x4-nb2-nf16-gc8.esrgan-keys.pth"));
  const Model ref = load_model(fixture("rrdb-x4-nb2-nf16-gc8.pth"));
  ASSERT_EQ(old.weights.size(), ref.weights.size());
  for (const auto& [k, t] : ref.weights) {
    ASSERT_EQ(old.weights.count(k), 1u) << k;
    EXPECT_EQ(old.weights.at(k).shape, t.shape) << k;
    EXPECT_EQ(old.weights.at(k).values, t.values) << k;
  }
}

TEST(PthLoad, EveryFormatHoldsTheSameWeights) {
  for (const std::string m : {"rrdb-x4-nb2-nf16-gc8", "compact-x4-nc4-nf16"}) {
    const Model ncnn = load_model(fixture(m + ".param"));
    for (const std::string f : {".pth", ".params.pth", ".bare-legacy.pth", ".safetensors"}) {
      const Model x = load_model(fixture(m + f));
      EXPECT_EQ(x.name, m + f.substr(0, f.rfind('.')));
      ASSERT_EQ(x.weights.size(), ncnn.weights.size()) << m + f;
      for (const auto& [k, t] : ncnn.weights) {
        ASSERT_EQ(x.weights.count(k), 1u) << m + f << " " << k;
        EXPECT_EQ(x.weights.at(k).shape, t.shape) << k;
        EXPECT_LE(max_abs_diff(x.weights.at(k).values, t.values), 1e-7) << m + f << " " << k;
      }
    }
  }
}

TEST_F(PthFiles, MaliciousCheckpointsAreRefusedByName) {
  EXPECT_NE(load("zip.pth", make_zip({{"archive/data.pkl", kOsSystem}, {"archive/version", "3\n"}})).find("os.system"),
            std::string::npos);
  EXPECT_NE(load("zip.pt", make_zip({{"x/data.pkl", kEval}})).find("builtins.eval"), std::string::npos);
  EXPECT_NE(load("legacy.pth", legacy_prefix() + kOsSystem).find("os.system"), std::string::npos);
  EXPECT_NE(load("ts.pt", text(read_bytes(fixture("compact-x4-nc4-nf16.torchscript.pt")))).find("TorchScript"),
            std::string::npos);
  EXPECT_NE(load("notpth.pth", "hello, world").find("not a PyTorch checkpoint"), std::string::npos);
  EXPECT_NE(load("magic.pth", raw("\x80\x02K\x05.")).find("magic"), std::string::npos);
  EXPECT_NE(load("list.pth", make_zip({{"a/data.pkl", raw("\x80\x02].")}})).find("not a state dict"), std::string::npos);
  // {'params_ema': None, 'params': 5}: None means absent, a non-dict is an error.
  const std::string wrapped = raw("\x80\x02}(X\x0a\x00\x00\x00params_emaNX\x06\x00\x00\x00paramsK\x05u.");
  EXPECT_NE(load("wrapped.pth", make_zip({{"a/data.pkl", wrapped}})).find("'params' is of type int"), std::string::npos);
}

TEST_F(PthFiles, TruncatedFilesAreErrors) {
  for (const std::string f : {"compact-x2-nc2-nf8.pth", "compact-x2-nc2-nf8.bare-legacy.pth", "rrdb-x2-nb1-nf16-gc8.pth",
                              "rrdb-x2-nb1-nf16-gc8.bare-legacy.pth"}) {
    const std::string full = text(read_bytes(fixture(f)));
    ASSERT_GT(full.size(), 1000u);
    for (std::size_t cut = 0; cut < full.size(); cut += (cut < 2048 ? 61 : 997))
      EXPECT_NE(load("cut.pth", full.substr(0, cut)), "") << f << " cut at " << cut;
    for (const std::size_t back : {1, 8, 22, 100})
      EXPECT_NE(load("cut.pth", full.substr(0, full.size() - back)), "") << f << " cut " << back << " from the end";
  }
}

TEST_F(PthFiles, CorruptZipsAreErrors) {
  const auto bytes = read_bytes(fixture("compact-x2-nc2-nf8.pth"));
  auto entries = zip_entries(bytes);
  EXPECT_EQ(load("rebuilt.pth", make_zip(entries)), "");  // the test writer itself is sound
  auto with_order = entries;
  with_order.emplace_back("compact-x2-nc2-nf8/byteorder", "little");  // as torch >= 2.1 writes
  EXPECT_EQ(load("little.pth", make_zip(with_order)), "");
  with_order.back().second = "big";
  EXPECT_NE(load("big.pth", make_zip(with_order)).find("big-endian"), std::string::npos);
  // A storage file shorter than the storage its persistent id claims.
  for (auto& [name, data] : entries)
    if (name == "compact-x2-nc2-nf8/data/0") data.resize(data.size() / 2);
  EXPECT_NE(load("short.pth", make_zip(entries)).find("data/0 holds"), std::string::npos);
  entries.erase(entries.begin() + 1);
  EXPECT_NE(load("missing.pth", make_zip(entries)).find("missing"), std::string::npos);

  const std::string good = text(bytes);
  const auto cd = good.find(raw("PK\x01\x02"));
  const auto end = good.rfind(raw("PK\x05\x06"));
  std::string m = good;
  m[cd + 10] = 8;  // deflated
  EXPECT_NE(load("deflate.pth", m).find("compressed"), std::string::npos);
  m = good;
  m[end + 10] = m[end + 11] = m[end + 8] = m[end + 9] = static_cast<char>(0xFF);  // entry counts overflowed
  EXPECT_NE(load("zip64.pth", m).find("ZIP64"), std::string::npos);
  m = good;
  m[good.find(raw("PK\x03\x04"), 100) + 200] ^= 0x10;  // a byte of storage data
  EXPECT_NE(load("crc.pth", m).find("CRC"), std::string::npos);
  for (std::size_t i = 0; i < good.size(); i += 7) {  // never a crash, whatever byte is hit
    m = good;
    m[i] = static_cast<char>(~m[i]);
    load("flip.pth", m);
  }
}

TEST_F(PthFiles, CorruptLegacyFilesAreErrors) {
  const std::string good = text(read_bytes(fixture("compact-x2-nc2-nf8.bare-legacy.pth")));
  for (std::size_t i = 0; i < good.size(); i += (i < 1700 ? 1 : 13)) {
    std::string m = good;
    m[i] = static_cast<char>(~m[i]);
    load("flip.pth", m);  // loads (a flipped weight) or is an Error(Model)
  }
  std::string m = good;
  m += "extra";  // trailing bytes after the last storage are tolerated, as torch does
  EXPECT_EQ(load("trail.pth", m), "");
}
