# The cnn program given hostile or careless input (issue "hostile input"):
# each case must end with a clear message and the expected exit status,
# never a crash, a sanitizer report or a silently wrong result. CNN is the
# program, FIXTURE tests/cli_fixture, DIR a scratch folder.
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR}/data)

# expect(RC EXPECTED_RC MATCH REGEX ARGS...): runs cnn ARGS, checks the exit
# status and that stdout or stderr matches REGEX; the output is in `out`.
function(expect rc_wanted match_word regex)
  execute_process(COMMAND ${CNN} ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "${rc_wanted}")
    message(FATAL_ERROR "cnn ${ARGN}\nexited with ${rc}, not ${rc_wanted}:\n"
            "${out}\n${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${regex}")
    message(FATAL_ERROR "cnn ${ARGN}\nprinted no '${regex}':\n${out}\n${err}")
  endif()
  if("${err}" MATCHES "Sanitizer|runtime error")
    message(FATAL_ERROR "cnn ${ARGN}\ntripped a sanitizer:\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(fixture)
  execute_process(COMMAND ${FIXTURE} ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cli_fixture ${ARGN} failed (${rc})")
  endif()
endfunction()

# 64 training images (labels 0..9), 10 test images whose last label, 200,
# is not a class of the training set, in the last, partial batch of 8.
fixture(idx ${DIR}/data 64 10 200)
set(common --model small --data ${DIR}/data --batch 8 --threads 1)
expect(1 match "test set .* has labels up to 200 but the training set only 10 classes"
       train ${common} --epochs 1 --out ${DIR}/badlabel)

# A clean data set for the rest.
fixture(idx ${DIR}/data 64 10 -1)

# Numbers out of range: the message gives the range.
expect(2 match "--epochs must be an integer in \\[1, 1000000\\] \\(got 9223372036854775807\\)"
       train ${common} --epochs 9223372036854775807)
expect(2 match "--batch must be an integer in \\[1, 1048576\\] \\(got -1\\)"
       train ${common} --batch -1)
expect(2 match "--lr must be a number in \\(0, 1000\\] \\(got nan\\)"
       train ${common} --lr nan)
expect(2 match "--seed must be an integer in \\[0, 9223372036854775807\\] \\(got -9223372036854775808\\)"
       train ${common} --seed -9223372036854775808)
expect(2 match "--threads must be an integer in \\[0, 4096\\] \\(got 99999999999999999999\\)"
       train ${common} --threads 99999999999999999999)
expect(2 match "--batch must be an integer in \\[1, 1048576\\] \\(got 0\\)"
       eval --checkpoint x --batch 0)
expect(2 match "--classes must be an integer in \\[0, 16777216\\] \\(got -1\\)"
       summary small --classes -1)
expect(2 match "--repeat must be an integer in \\[5, 100000\\] \\(got 2x\\)"
       bench ops --repeat 2x)
expect(2 match "--samples must be an integer in \\[5, 64\\] \\(got 0\\)"
       bench models --samples 0)

# A path longer than the program takes is refused, not cut short.
string(REPEAT "d" 2100 long)
expect(2 match "the value of --out is 2[0-9][0-9][0-9] bytes long but at most 2047"
       train ${common} --epochs 1 --out ${DIR}/${long})
if(EXISTS ${DIR}/d)
  message(FATAL_ERROR "cnn train wrote into a cut-short --out path")
endif()

# A directory given as a checkpoint.
expect(1 match "is a directory"
       train ${common} --epochs 1 --out ${DIR}/run --resume ${DIR}/data)
expect(1 match "is a directory" eval --model small --data ${DIR}/data
       --checkpoint ${DIR}/data)

# A first epoch, and its checkpoint kept aside as "epoch1.ckpt".
expect(0 match "epoch 1/1: train loss" train ${common} --epochs 1
       --eval-batches 1 --out ${DIR}/run)
file(COPY_FILE ${DIR}/run/model.ckpt ${DIR}/epoch1.ckpt)

# A well-formed checkpoint whose step is INT64_MAX: refused before ++step.
fixture(meta ${DIR}/epoch1.ckpt ${DIR}/step.ckpt step 9223372036854775807)
expect(1 match "its step \"9223372036854775807\" is not an integer in \\[0, "
       train ${common} --epochs 2 --out ${DIR}/run --resume ${DIR}/step.ckpt)

# Killed after the epoch-2 row was flushed, before its checkpoint was
# saved: resuming from epoch 1 again must leave one row per epoch.
expect(0 match "epoch 2/2: train loss" train ${common} --epochs 2
       --eval-batches 1 --out ${DIR}/run --resume ${DIR}/epoch1.ckpt)
expect(0 match "epoch 2/2: train loss" train ${common} --epochs 2
       --eval-batches 1 --out ${DIR}/run --resume ${DIR}/epoch1.ckpt)
file(STRINGS ${DIR}/run/metrics.csv lines)
list(LENGTH lines count)
list(GET lines 1 first)
list(GET lines 2 second)
if(NOT count EQUAL 3 OR NOT first MATCHES "^1," OR NOT second MATCHES "^2,")
  message(FATAL_ERROR "metrics.csv after a resume repeats or loses epochs:\n"
          "${lines}")
endif()

# A loss that becomes NaN: one message line, with no blank line before it.
expect(1 match "cnn train: the loss became (nan|-nan|inf)" train ${common}
       --epochs 1 --lr 1000 --momentum 1000 --out ${DIR}/nan)
if(NOT "${err}" MATCHES "^cnn train: the loss became")
  message(FATAL_ERROR "the NaN message starts with a blank line:\n${err}")
endif()

# Over-long paths for the benchmarks' files too.
expect(2 match "the value of --json is 2[0-9][0-9][0-9] bytes long but at most 2047"
       bench models --json ${DIR}/${long})
expect(2 match "the value of --shapes is 2[0-9][0-9][0-9] bytes long but at most 2047"
       bench ops --shapes ${DIR}/${long})
