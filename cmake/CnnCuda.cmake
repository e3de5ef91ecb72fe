# CNN_CUDA and CNN_CUDNN: AUTO, ON or OFF. ON with the dependency missing is
# a configure error; AUTO builds what it finds and says what that was.
#
# CNN_CUDA_EMULATION=ON forces CNN_CUDA=OFF and builds the module from our
# own kernels compiled by the host compiler against the CPU emulation of
# CUDA (src/cuda/emu, docs/emulation.md). CNN_CUDA_MODULE says whether
# libcnn-cuda.so is built at all, real or emulated.
#
# AUTO finds nvcc on PATH or in the toolkit's usual places, so a machine
# whose PATH lacks /usr/local/cuda/bin still builds the CUDA backend. The
# CUDA architectures default to 80 and 90 and are set before
# enable_language(CUDA), because CMake caches its own default there; the
# CUDAARCHS environment variable (CI sets 90) overrides them.
set(CNN_HAVE_CUDA OFF)
set(CNN_HAVE_CUDNN OFF)
set(CNN_CUDA_MODULE OFF)
set(CNN_CUDA_SUMMARY "off")
set(CNN_CUDNN_SUMMARY "off")

foreach(opt CNN_CUDA CNN_CUDNN)
  if(NOT ${opt} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "${opt} must be AUTO, ON or OFF (got '${${opt}}')")
  endif()
endforeach()

if(CNN_CUDA_EMULATION)
  if(CNN_CUDA STREQUAL "ON")
    message(STATUS "CNN_CUDA_EMULATION=ON: CNN_CUDA=ON is overridden to OFF")
  endif()
  set(CNN_CUDA OFF) # shadows the cache entry for this configure only
  set(CNN_CUDA_MODULE ON)
  set(CNN_CUDA_SUMMARY "emulated on the CPU (CNN_CUDA_EMULATION=ON)")
endif()

if(NOT CNN_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    file(GLOB cnn_cuda_versioned LIST_DIRECTORIES true /usr/local/cuda-*/bin)
    list(SORT cnn_cuda_versioned ORDER DESCENDING)
    find_program(CNN_NVCC nvcc
                 HINTS ENV CUDA_HOME ENV CUDA_PATH
                 PATH_SUFFIXES bin
                 PATHS /usr/local/cuda/bin ${cnn_cuda_versioned} /opt/cuda/bin)
    if(CNN_NVCC)
      set(CMAKE_CUDA_COMPILER "${CNN_NVCC}" CACHE FILEPATH "CUDA compiler")
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
      set(CMAKE_CUDA_ARCHITECTURES 80 90 CACHE STRING "CUDA architectures")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(CNN_HAVE_CUDA ON)
    set(CNN_CUDA_MODULE ON)
    set(CNN_CUDA_SUMMARY "CUDA ${CUDAToolkit_VERSION} (${CMAKE_CUDA_COMPILER}), architectures ${CMAKE_CUDA_ARCHITECTURES}")
  elseif(CNN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "CNN_CUDA=ON but no CUDA compiler (nvcc) was found on "
                        "PATH or in /usr/local/cuda*/bin; set "
                        "CMAKE_CUDA_COMPILER or install the CUDA toolkit")
  else()
    set(CNN_CUDA_SUMMARY "off (no CUDA toolkit found)")
  endif()
endif()

if(CNN_HAVE_CUDA AND NOT CNN_CUDNN STREQUAL "OFF")
  find_path(CNN_CUDNN_INCLUDE_DIR cudnn_version.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV CUDNN_PATH
            PATH_SUFFIXES include)
  find_library(CNN_CUDNN_LIBRARY cudnn
               HINTS ${CUDAToolkit_LIBRARY_DIR} ENV CUDNN_PATH
               PATH_SUFFIXES lib64 lib)
  if(CNN_CUDNN_INCLUDE_DIR AND CNN_CUDNN_LIBRARY)
    file(STRINGS "${CNN_CUDNN_INCLUDE_DIR}/cudnn_version.h" cnn_cudnn_lines
         REGEX "#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) +[0-9]+")
    set(cnn_cudnn_version "")
    foreach(part MAJOR MINOR PATCHLEVEL)
      string(REGEX MATCH "CUDNN_${part} +([0-9]+)" _ "${cnn_cudnn_lines}")
      list(APPEND cnn_cudnn_version ${CMAKE_MATCH_1})
    endforeach()
    string(REPLACE ";" "." cnn_cudnn_version "${cnn_cudnn_version}")
    set(CNN_HAVE_CUDNN ON)
    set(CNN_CUDNN_SUMMARY "cuDNN ${cnn_cudnn_version} (${CNN_CUDNN_LIBRARY})")
  elseif(CNN_CUDNN STREQUAL "ON")
    message(FATAL_ERROR "CNN_CUDNN=ON but cuDNN (cudnn_version.h and "
                        "libcudnn) was not found; set CUDNN_PATH")
  else()
    set(CNN_CUDNN_SUMMARY "off (cuDNN not found)")
  endif()
elseif(CNN_CUDNN STREQUAL "ON")
  message(FATAL_ERROR "CNN_CUDNN=ON needs the CUDA backend, which is off")
endif()
