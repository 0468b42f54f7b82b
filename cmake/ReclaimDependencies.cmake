# Header-only dependencies shared by every build, found the same way for the
# native and the Emscripten compiler.
#
# Debian's em++ does not search /usr/include, and adding all of /usr/include
# would pull glibc headers into the WebAssembly build. So the Emscripten build
# gets a folder of symlinks to just the header-only libraries it needs.

find_path(RECLAIM_NLOHMANN_INCLUDE nlohmann/json.hpp PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH)
find_path(RECLAIM_DOCTEST_INCLUDE doctest/doctest.h PATHS /usr/include NO_CMAKE_FIND_ROOT_PATH)
if(NOT RECLAIM_NLOHMANN_INCLUDE)
  message(FATAL_ERROR "nlohmann/json.hpp not found: install nlohmann-json3-dev (scripts/setup.sh)")
endif()
if(RECLAIM_BUILD_TESTS AND NOT RECLAIM_DOCTEST_INCLUDE)
  message(FATAL_ERROR "doctest/doctest.h not found: install doctest-dev (scripts/setup.sh)")
endif()

set(reclaim_header_dir "${CMAKE_BINARY_DIR}/header-only")
file(MAKE_DIRECTORY "${reclaim_header_dir}")
foreach(dir nlohmann doctest)
  if(dir STREQUAL "nlohmann")
    set(src "${RECLAIM_NLOHMANN_INCLUDE}/nlohmann")
  else()
    set(src "${RECLAIM_DOCTEST_INCLUDE}/doctest")
  endif()
  if(EXISTS "${src}" AND NOT EXISTS "${reclaim_header_dir}/${dir}")
    file(CREATE_LINK "${src}" "${reclaim_header_dir}/${dir}" SYMBOLIC)
  endif()
endforeach()

add_library(reclaim_header_only INTERFACE)
target_include_directories(reclaim_header_only SYSTEM INTERFACE "${reclaim_header_dir}")
