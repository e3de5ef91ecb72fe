# Runs EXE to write OUT and checks that it equals the committed EXPECTED.
execute_process(COMMAND ${EXE} ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${EXPECTED}
                RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "the library no longer writes ${EXPECTED} byte for "
          "byte: the checkpoint format changed. If that was meant, bump "
          "CNN_CHECKPOINT_VERSION, keep reading the old version, and "
          "regenerate the sample with make_sample_checkpoint.")
endif()
