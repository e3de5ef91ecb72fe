# Installs headers, libcnn (shared and static), the CUDA module, the cnn
# program, CMake package files (find_package(cnn)) and cnn.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/cnn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS cnn cnn_static EXPORT cnnTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(cnn_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cnn)
install(EXPORT cnnTargets NAMESPACE cnn:: DESTINATION ${cnn_cmake_dir})
configure_package_config_file(cmake/cnnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cnnConfig.cmake INSTALL_DESTINATION ${cnn_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cnnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cnnConfig.cmake
              ${PROJECT_BINARY_DIR}/cnnConfigVersion.cmake
        DESTINATION ${cnn_cmake_dir})

# pkg-config: `pkg-config --cflags --libs cnn` (add --static for libcnn.a).
set(CNN_PC_LIBS_PRIVATE "-ljpeg -lpng16 -lz -lpthread -ldl -lm")
if(OpenMP_C_FOUND)
  string(APPEND CNN_PC_LIBS_PRIVATE " ${OpenMP_C_FLAGS}")
endif()
if(CNN_HAVE_OPENBLAS)
  string(APPEND CNN_PC_LIBS_PRIVATE " ${CNN_OPENBLAS_LIBRARY}")
endif()
# The .pc file finds the prefix relative to itself, so the install can move.
file(RELATIVE_PATH CNN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(cmake/cnn.pc.in ${PROJECT_BINARY_DIR}/cnn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cnn.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
