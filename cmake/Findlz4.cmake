# Findlz4: locate liblz4 (the frame API, lz4frame.h) and provide lz4::lz4.
find_path(lz4_INCLUDE_DIR NAMES lz4frame.h)
find_library(lz4_LIBRARY NAMES lz4)
if(lz4_INCLUDE_DIR AND EXISTS "${lz4_INCLUDE_DIR}/lz4.h")
  file(STRINGS "${lz4_INCLUDE_DIR}/lz4.h" _lz4_ver REGEX "^#define LZ4_VERSION_(MAJOR|MINOR|RELEASE) +[0-9]+")
  string(REGEX REPLACE ".*MAJOR +([0-9]+).*MINOR +([0-9]+).*RELEASE +([0-9]+).*" "\\1.\\2.\\3"
         lz4_VERSION "${_lz4_ver}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(lz4 REQUIRED_VARS lz4_LIBRARY lz4_INCLUDE_DIR VERSION_VAR lz4_VERSION)
if(lz4_FOUND AND NOT TARGET lz4::lz4)
  add_library(lz4::lz4 UNKNOWN IMPORTED)
  set_target_properties(lz4::lz4 PROPERTIES
    IMPORTED_LOCATION "${lz4_LIBRARY}" INTERFACE_INCLUDE_DIRECTORIES "${lz4_INCLUDE_DIR}")
endif()
mark_as_advanced(lz4_INCLUDE_DIR lz4_LIBRARY)
