# CNN_BLAS: AUTO (OpenBLAS when found), OpenBLAS (required), none.
#
# Debian ships OpenBLAS built three ways (pthreads, OpenMP, serial) and keeps
# the pthreads build as the system default even when the OpenMP one is
# installed. Our CPU backend threads with OpenMP, and a pthreads OpenBLAS
# called from inside OpenMP regions oversubscribes the cores, so we look for
# the OpenMP build by its own folder first and link it by full path (with an
# RPATH to that folder so that the loader keeps it). The library reports at
# run time which build it got (cnn info).
set(CNN_HAVE_OPENBLAS OFF)
set(CNN_BLAS_LIBRARIES)
set(CNN_BLAS_LINK_OPTIONS)
set(CNN_BLAS_SUMMARY "none")
if(NOT CNN_BLAS MATCHES "^(AUTO|OpenBLAS|none)$")
  message(FATAL_ERROR "CNN_BLAS must be AUTO, OpenBLAS or none (got '${CNN_BLAS}')")
endif()
if(NOT CNN_BLAS STREQUAL "none")
  set(cnn_blas_dirs)
  foreach(arch_dir ${CMAKE_LIBRARY_ARCHITECTURE} x86_64-linux-gnu aarch64-linux-gnu)
    list(APPEND cnn_blas_dirs /usr/lib/${arch_dir}/openblas-openmp)
  endforeach()
  find_library(CNN_OPENBLAS_LIBRARY NAMES openblas
               PATHS ${cnn_blas_dirs} NO_DEFAULT_PATH)
  set(cnn_blas_threading "OpenMP build")
  if(NOT CNN_OPENBLAS_LIBRARY)
    find_library(CNN_OPENBLAS_LIBRARY NAMES openblas)
    set(cnn_blas_threading "system default build; threading checked at run time")
  endif()
  if(CNN_OPENBLAS_LIBRARY)
    set(CNN_HAVE_OPENBLAS ON)
    get_filename_component(cnn_blas_dir "${CNN_OPENBLAS_LIBRARY}" DIRECTORY)
    set(CNN_BLAS_LIBRARIES "${CNN_OPENBLAS_LIBRARY}")
    set(CNN_BLAS_LINK_OPTIONS "LINKER:-rpath,${cnn_blas_dir}")
    set(CNN_BLAS_SUMMARY "OpenBLAS ${CNN_OPENBLAS_LIBRARY} (${cnn_blas_threading})")
  elseif(CNN_BLAS STREQUAL "OpenBLAS")
    message(FATAL_ERROR "CNN_BLAS=OpenBLAS but OpenBLAS was not found: "
                        "apt-get install libopenblas-openmp-dev")
  else()
    set(CNN_BLAS_SUMMARY "none (OpenBLAS not found)")
  endif()
endif()
