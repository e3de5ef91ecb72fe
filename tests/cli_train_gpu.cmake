# `cnn train` on cuda:0 against the same run on the CPU: a tiny epoch of the
# small net on each (same seed, data order and dropout masks), then the GPU's
# checkpoint evaluated on the CPU. The train and test losses must agree to
# float rounding. Run on the CPU emulation of CUDA (label emu), whose
# device cuda:0 runs our own kernels; on a real GPU it is the same test.
# CNN is the program, DIR a scratch folder.
file(REMOVE_RECURSE ${DIR})
set(common --model small --epochs 1 --batch 16 --limit-batches 3
           --eval-batches 2 --threads 1)
foreach(device cpu cuda:0)
  string(REPLACE ":" "" name ${device})
  execute_process(COMMAND ${CNN} train ${common} --device ${device}
                          --out ${DIR}/${name}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cnn train --device ${device} exited with ${rc}:\n"
                        "${out}\n${err}")
  endif()
  file(STRINGS ${DIR}/${name}/metrics.csv lines)
  list(GET lines 1 row)
  string(REPLACE "," ";" row "${row}")
  list(GET row 3 train_loss_${name}) # epoch,step,lr,train_loss,train_acc,
  list(GET row 5 test_loss_${name})  # test_loss,...
endforeach()
# metrics.csv prints losses with 6 decimals: compare them as integers of
# 1e-6 (CMake has no floats); they must agree within 5e-5.
function(micro value out)
  string(REPLACE "." "" digits "${value}")
  string(REGEX REPLACE "^0+([0-9])" "\\1" digits "${digits}")
  set(${out} ${digits} PARENT_SCOPE)
endfunction()
foreach(what train_loss test_loss)
  micro("${${what}_cpu}" a)
  micro("${${what}_cuda0}" b)
  math(EXPR diff "${a} - ${b}")
  if(diff GREATER 50 OR diff LESS -50)
    message(FATAL_ERROR "${what}: cpu ${${what}_cpu}, cuda:0 ${${what}_cuda0}")
  endif()
endforeach()
execute_process(COMMAND ${CNN} eval --model small --device cpu --batch 1000
                        --checkpoint ${DIR}/cuda0/model.ckpt
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "accuracy [0-9.]+%")
  message(FATAL_ERROR "cnn eval of the GPU's checkpoint on the CPU failed "
                      "(${rc}):\n${out}\n${err}")
endif()
message(STATUS "cpu and cuda:0 agree: train loss ${train_loss_cpu} / "
               "${train_loss_cuda0}, test loss ${test_loss_cpu} / "
               "${test_loss_cuda0}")
