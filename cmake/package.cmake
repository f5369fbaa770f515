# `cpack -G DEB` in the build folder (or scripts/package.sh): one .deb with the binary, the
# headers, libyamiro.a, the CMake and pkg-config files, the Python module, the manifests and
# fetch-models.sh, installed under /usr.
set(CPACK_PACKAGE_NAME yamiro)
set(CPACK_PACKAGE_VENDOR "yamiro")
set(CPACK_PACKAGE_CONTACT "yamiro maintainers <yamiro@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "AI image and video upscaler (Real-ESRGAN, SwinIR) on LibTorch")
set(CPACK_PACKAGE_DESCRIPTION "yamiro upscales images and videos with Real-ESRGAN, SwinIR and ncnn models through LibTorch on the CPU, CUDA or MPS.
 The package holds the yamiro command, the C++ library (headers, libyamiro.a, find_package(yamiro) and yamiro.pc),
 the Python module (import yamiro) and share/yamiro/scripts/fetch-models.sh to fetch the built-in models.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
# Runtime Depends from the binary's and the module's shared libraries (dpkg-shlibdeps), plus
# what the module and fetch-models.sh run with. Building against the library needs the -dev
# packages of its dependencies: suggested, not required.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(_deb_depends "")
if(YAMIRO_WITH_PYTHON)
  set(_deb_depends "python3 (>= 3.11), python3 (<< 3.12), python3-numpy")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_deb_depends}")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "npm")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libtorch-dev, libopencv-core-dev, libopencv-imgproc-dev, libopencv-imgcodecs-dev, libtiff-dev, libavformat-dev, libavcodec-dev, libavutil-dev, libswscale-dev, libswresample-dev, libspdlog-dev, nlohmann-json3-dev, pkg-config, cmake")
include(CPack)
