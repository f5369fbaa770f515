// Image input/output when yamiro is built without OpenCV (GPU check builds).
#include "yamiro/error.hpp"
#include "yamiro/io.hpp"

namespace yamiro {

bool image_io_available() { return false; }

Image read_image(const std::string& path) {
  throw Error(ErrorKind::Usage, path + ": this yamiro was built without OpenCV and cannot read images");
}

std::vector<unsigned char> encode_image(const Image&, const std::string& path, int) {
  throw Error(ErrorKind::Usage, path + ": this yamiro was built without OpenCV and cannot write images");
}

}  // namespace yamiro
