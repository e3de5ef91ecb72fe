# Warning flags for our own C and CUDA code; CNN_WERROR makes them errors.
set(CNN_C_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # Messages are cut to their buffers on purpose (GCC's flag; clang, which
  # builds the fuzz targets, has no such warning).
  list(APPEND CNN_C_WARNINGS -Wno-format-truncation)
else()
  # clang also flags the va_list forwarding in the error and log helpers.
  list(APPEND CNN_C_WARNINGS -Wno-format-nonliteral)
endif()
set(CNN_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow)
if(CNN_WERROR)
  list(APPEND CNN_C_WARNINGS -Werror)
  list(APPEND CNN_CXX_WARNINGS -Werror)
endif()
