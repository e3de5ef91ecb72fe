# CNN_SANITIZE=address,undefined builds everything with those sanitizers.
# Undefined behaviour is made fatal so that a test fails rather than prints.
# Code is optimised at -O1 whatever the build type (AddressSanitizer's own
# advice): at -O0 the convolution suites take minutes, at -O1 seconds, and
# the sanitizers still see every access.
if(CNN_SANITIZE)
  string(REPLACE "," ";" cnn_sanitizers "${CNN_SANITIZE}")
  string(REPLACE ";" "," cnn_sanitize_list "${cnn_sanitizers}")
  set(cnn_sanitize_flags -fsanitize=${cnn_sanitize_list} -fno-omit-frame-pointer)
  if("undefined" IN_LIST cnn_sanitizers)
    list(APPEND cnn_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  foreach(flag ${cnn_sanitize_flags} -O1)
    add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:${flag}>)
  endforeach()
  add_link_options(${cnn_sanitize_flags})
endif()
