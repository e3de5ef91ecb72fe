# Warning flags for our own C and CUDA code; CNN_WERROR makes them errors.
set(CNN_C_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wvla
    # Messages are cut to their buffers on purpose.
    -Wno-format-truncation)
set(CNN_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow)
if(CNN_WERROR)
  list(APPEND CNN_C_WARNINGS -Werror)
  list(APPEND CNN_CXX_WARNINGS -Werror)
endif()
