# The Python module (`import yamiro`): pybind11 over the same yamiro_core, built into
# <build>/python/yamiro and installed under the prefix's Python site folder.
# Debian's interpreter (its python3-numpy, python3-pybind11), not one found first on PATH.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 3.7 QUIET COMPONENTS Interpreter Development.Module NumPy)
find_package(pybind11 CONFIG QUIET)
set(_yamiro_python_default OFF)
if(Python3_FOUND AND Python3_NumPy_FOUND AND pybind11_FOUND AND YAMIRO_WITH_OPENCV)
  set(_yamiro_python_default ON)
endif()
option(YAMIRO_WITH_PYTHON "The Python module (pybind11, NumPy; needs OpenCV)" ${_yamiro_python_default})
if(NOT YAMIRO_WITH_PYTHON)
  return()
endif()
if(NOT (Python3_FOUND AND Python3_NumPy_FOUND AND pybind11_FOUND AND YAMIRO_WITH_OPENCV))
  message(FATAL_ERROR "YAMIRO_WITH_PYTHON needs python3-dev, python3-numpy, pybind11-dev and OpenCV")
endif()

# A static library inside a shared Python extension: position-independent code.
set_target_properties(yamiro_core PROPERTIES POSITION_INDEPENDENT_CODE ON)

set(YAMIRO_PYTHON_DIR ${CMAKE_BINARY_DIR}/python/yamiro)
# NO_EXTRAS: no LTO (a long link of LibTorch objects for nothing measurable).
pybind11_add_module(yamiro_python MODULE NO_EXTRAS src/python/module.cpp)
target_include_directories(yamiro_python PRIVATE src)
target_link_libraries(yamiro_python PRIVATE yamiro_core Python3::NumPy)
target_compile_options(yamiro_python PRIVATE ${YAMIRO_WARNINGS})
set_target_properties(yamiro_python PROPERTIES OUTPUT_NAME _yamiro LIBRARY_OUTPUT_DIRECTORY ${YAMIRO_PYTHON_DIR})
# The pure-Python half of the package, beside the extension in the build tree.
add_custom_command(OUTPUT ${YAMIRO_PYTHON_DIR}/__init__.py
                   COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_CURRENT_SOURCE_DIR}/src/python/__init__.py ${YAMIRO_PYTHON_DIR}/__init__.py
                   DEPENDS src/python/__init__.py)
add_custom_target(yamiro_python_files ALL DEPENDS ${YAMIRO_PYTHON_DIR}/__init__.py)
add_dependencies(yamiro_python yamiro_python_files)

# Debian's python3 reads /usr/lib/python3/dist-packages and /usr/local/lib/python3.X/dist-packages;
# any other prefix gets the usual lib/python3.X/site-packages (put it on PYTHONPATH).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_site lib/python3/dist-packages)
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr/local")
  set(_site lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages)
else()
  set(_site lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages)
endif()
# Not cached: it follows CMAKE_INSTALL_PREFIX when that changes (scripts/package.sh sets /usr).
if(NOT YAMIRO_PYTHON_INSTALL_DIR)
  set(YAMIRO_PYTHON_INSTALL_DIR ${_site})
endif()
install(TARGETS yamiro_python LIBRARY DESTINATION ${YAMIRO_PYTHON_INSTALL_DIR}/yamiro)
install(FILES src/python/__init__.py DESTINATION ${YAMIRO_PYTHON_INSTALL_DIR}/yamiro)
