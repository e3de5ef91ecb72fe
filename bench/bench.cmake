# bench/bench.cmake - the harness behind `cnn bench`, compiled into the cnn
# program (tools/CMakeLists.txt includes this file after it defines
# cnn_tool). bench/shapes_ops.txt is compiled in as a C string,
# regenerated whenever the file changes, so the installed program needs no
# data file; bench/peer_torch.py reads the same file.
set(cnn_bench_dir ${PROJECT_SOURCE_DIR}/bench)
set(cnn_bench_shapes_c ${CMAKE_CURRENT_BINARY_DIR}/bench_shapes_ops.c)
add_custom_command(OUTPUT ${cnn_bench_shapes_c}
  COMMAND ${CMAKE_COMMAND} -DIN=${cnn_bench_dir}/shapes_ops.txt
          -DOUT=${cnn_bench_shapes_c} -P ${cnn_bench_dir}/embed_text.cmake
  DEPENDS ${cnn_bench_dir}/shapes_ops.txt ${cnn_bench_dir}/embed_text.cmake
  COMMENT "Compiling in bench/shapes_ops.txt")
set(cnn_bench_sources
  ${cnn_bench_dir}/bench_case.c
  ${cnn_bench_dir}/bench_flops.c
  ${cnn_bench_dir}/bench_main.c
  ${cnn_bench_dir}/bench_model_run.c
  ${cnn_bench_dir}/bench_models.c
  ${cnn_bench_dir}/bench_models_report.c
  ${cnn_bench_dir}/bench_op.c
  ${cnn_bench_dir}/bench_ops_dense.c
  ${cnn_bench_dir}/bench_ops_misc.c
  ${cnn_bench_dir}/bench_ops_norm.c
  ${cnn_bench_dir}/bench_peak.c
  ${cnn_bench_dir}/bench_report.c
  ${cnn_bench_dir}/bench_run.c)
# strtok_r, clock_gettime and open_memstream are POSIX.
set_source_files_properties(${cnn_bench_sources} PROPERTIES
  COMPILE_DEFINITIONS _POSIX_C_SOURCE=200809L)
target_sources(cnn_tool PRIVATE ${cnn_bench_sources} ${cnn_bench_shapes_c})
target_include_directories(cnn_tool PRIVATE ${cnn_bench_dir})
target_link_libraries(cnn_tool PRIVATE m Threads::Threads) # bench_peak.c
