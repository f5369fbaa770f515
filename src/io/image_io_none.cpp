// Image input/output when yamiro is built without OpenCV (GPU check builds).
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"

namespace yamiro {

bool image_io_available() { return false; }
std::string image_library_version() { return ""; }

Image read_image(const std::string& path, const ReadLimits&) {
  throw Error(ErrorKind::Usage, path + ": this yamiro was built without OpenCV and cannot read images");
}

Image decode_image(const std::vector<unsigned char>&, const std::string& name, const ReadLimits&) {
  throw Error(ErrorKind::Usage, name + ": this yamiro was built without OpenCV and cannot read images");
}

std::vector<unsigned char> encode_image(Image, const std::string& ext, int) {
  throw Error(ErrorKind::Usage, ext + ": this yamiro was built without OpenCV and cannot write images");
}

Image resize_image(const Image&, int, int) { throw Error(ErrorKind::Usage, "resizing needs OpenCV"); }
Image resize_cubic(const Image&, int, int) { throw Error(ErrorKind::Usage, "resizing needs OpenCV"); }

void check_output_format(const std::string& path) {
  throw Error(ErrorKind::Usage, path + ": this yamiro was built without OpenCV and cannot write images");
}

void write_image(Image, const std::string& path, int, bool) { check_output_format(path); }

}  // namespace yamiro
