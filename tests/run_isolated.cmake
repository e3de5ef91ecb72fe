# Copies EXE alone into DIR/bin and runs it there, so that nothing next to
# it (or in DIR/lib) is a libcnn-cuda.so. Fails when the program fails.
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR}/bin ${DIR}/lib)
file(COPY ${EXE} DESTINATION ${DIR}/bin)
get_filename_component(name ${EXE} NAME)
execute_process(COMMAND ${DIR}/bin/${name} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${name} run alone in ${DIR}/bin exited with ${rc}")
endif()
