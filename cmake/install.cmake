# The installed C++ package: bin/yamiro, include/yamiro/*.hpp, lib/libyamiro.a, the CMake
# package (find_package(yamiro) -> yamiro::yamiro) and yamiro.pc, the model manifests and
# scripts/fetch-models.sh. Included from the top-level CMakeLists.txt after every target.
include(GNUInstallDirs)
# `cmake --install`, cpack and the consumer test build nothing beyond what they install.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(CMakePackageConfigHelpers)

# The library is libyamiro.a, its imported target yamiro::yamiro.
set_target_properties(yamiro_core PROPERTIES OUTPUT_NAME yamiro EXPORT_NAME yamiro)
set_target_properties(yamiro_log PROPERTIES EXPORT_NAME log)
# The public include folder from the source tree while building, the prefix's when installed.
set_property(TARGET yamiro_core PROPERTY INTERFACE_INCLUDE_DIRECTORIES
             "$<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>" "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
# Installed programs and consumers look for the manifest, the models and fetch-models.sh'
# lists under the prefix's share/yamiro/models too (after the source tree's).
set(YAMIRO_INSTALL_MODELS_DIR "${CMAKE_INSTALL_FULL_DATADIR}/yamiro/models")
set_property(SOURCE src/models/manifest.cpp src/models/registry.cpp APPEND PROPERTY
             COMPILE_DEFINITIONS YAMIRO_INSTALL_MODELS_DIR="${YAMIRO_INSTALL_MODELS_DIR}")

install(TARGETS yamiro RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The source tree's model folder is a build-tree fact: consumers of the package do not get it.
get_target_property(_defs yamiro_core INTERFACE_COMPILE_DEFINITIONS)
list(TRANSFORM _defs REPLACE "^(YAMIRO_SOURCE_MODELS_DIR=.*)$" "$<BUILD_INTERFACE:\\1>")
set_property(TARGET yamiro_core PROPERTY INTERFACE_COMPILE_DEFINITIONS "${_defs}")
install(TARGETS yamiro_core yamiro_log EXPORT yamiroTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/yamiro DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(EXPORT yamiroTargets NAMESPACE yamiro:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/yamiro)

# The dependencies the config file finds again: LibTorch, OpenCV and FFmpeg are private
# (a static library still needs them at the consumer's link), spdlog/nlohmann_json public.
set(YAMIRO_CONFIG_OPENCV ${YAMIRO_WITH_OPENCV})
set(YAMIRO_CONFIG_FFMPEG ${YAMIRO_WITH_FFMPEG})
set(YAMIRO_CONFIG_SPDLOG_HEADER_ONLY ${YAMIRO_SPDLOG_HEADER_ONLY})
configure_package_config_file(cmake/yamiroConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/yamiroConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/yamiro)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/yamiroConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/yamiroConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/yamiroConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/yamiro)

# pkg-config: `pkg-config --cflags --libs yamiro` (LibTorch has no .pc file: its libraries
# are named with their installed paths).
set(_pc_torch "")
foreach(_t torch torch_cpu c10)
  if(TARGET ${_t})
    get_target_property(_loc ${_t} IMPORTED_LOCATION)
    if(NOT _loc)
      get_target_property(_loc ${_t} IMPORTED_LOCATION_RELEASE)
    endif()
    if(_loc)
      string(APPEND _pc_torch " ${_loc}")
    endif()
  endif()
endforeach()
set(_pc_requires "")
set(_pc_requires_private "")
if(NOT YAMIRO_SPDLOG_HEADER_ONLY)
  set(_pc_requires "spdlog")
endif()
set(_pc_opencv "")
if(YAMIRO_WITH_OPENCV)
  foreach(_m core imgproc imgcodecs)
    string(APPEND _pc_opencv " -lopencv_${_m}")
  endforeach()
  string(APPEND _pc_opencv " -ltiff")  # gray+alpha TIFFs (src/io/tiff_gray_alpha.cpp)
endif()
if(YAMIRO_WITH_FFMPEG)
  set(_pc_requires_private "libavformat libavcodec libavutil libswscale libswresample")
endif()
set(_pc_defs "-DYAMIRO_VERSION=\\\"${PROJECT_VERSION}\\\"")
if(YAMIRO_WITH_OPENCV)
  string(APPEND _pc_defs " -DYAMIRO_HAVE_OPENCV=1")
endif()
if(YAMIRO_WITH_FFMPEG)
  string(APPEND _pc_defs " -DYAMIRO_HAVE_FFMPEG=1")
endif()
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/yamiro.pc
"prefix=${CMAKE_INSTALL_PREFIX}
libdir=\${prefix}/${CMAKE_INSTALL_LIBDIR}
includedir=\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}

Name: yamiro
Description: AI image and video upscaler (Real-ESRGAN, SwinIR) on LibTorch: the core library
Version: ${PROJECT_VERSION}
Requires: ${_pc_requires}
Requires.private: ${_pc_requires_private}
Cflags: -I\${includedir} -std=c++17 ${_pc_defs}
Libs: -L\${libdir} -lyamiro
Libs.private:${_pc_opencv}${_pc_torch} -pthread
")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/yamiro.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES models/manifest.json models/ncnn-models.json DESTINATION ${CMAKE_INSTALL_DATADIR}/yamiro/models)
install(PROGRAMS scripts/fetch-models.sh DESTINATION ${CMAKE_INSTALL_DATADIR}/yamiro/scripts)
