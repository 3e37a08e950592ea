# tests/fuzz/tests.cmake: fuzzing harnesses, their replay drivers, and the
# fuzz and lint runs as ctest tests.
#
# - Every build (gcc or clang, any type) gets replay_<name>: the harness
#   tests/fuzz/fuzz_<name>.c linked with replay_main.c and driftsync_core. The
#   ctest fuzz-replay.<name> feeds it the seed corpus (corpus/<name>/) and the
#   crash regressions (regressions/<name>/). Labels "fuzz-replay;unit", so
#   the ASan build's `ctest -L unit` (scripts/test) replays them too.
# - With DRIFTSYNC_FUZZ (default ON when the compiler is clang; scripts/fuzz
#   configures build/fuzz that way) the libFuzzer binaries fuzz_<name> are
#   built against driftsync_fuzzcore, an OBJECT library of the same core
#   sources compiled with -fsanitize=fuzzer-no-link,address,undefined
#   (driftsync_core itself is built without coverage instrumentation).
# - Outside the fuzz build: fuzz.run (label fuzz) runs scripts/fuzz with the
#   short CI budget, and lint.cppcheck / lint.clang-tidy (label lint) run
#   scripts/lint. They install nothing (scripts/setup does) and fail with a
#   clear message when clang, cppcheck or clang-tidy are missing.
set(FUZZ_HARNESSES
  config rules model map discover discover_item sh_findings sh_standards
  creds sts awserr sigv4 store jsonr)
set(FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

foreach(h ${FUZZ_HARNESSES})
  add_executable(replay_${h} ${FUZZ_DIR}/fuzz_${h}.c ${FUZZ_DIR}/replay_main.c)
  target_link_libraries(replay_${h} PRIVATE driftsync_core driftsync_flags)
  set(replay_inputs ${FUZZ_DIR}/corpus/${h})
  if(EXISTS ${FUZZ_DIR}/regressions/${h})
    list(APPEND replay_inputs ${FUZZ_DIR}/regressions/${h})
  endif()
  add_test(NAME fuzz-replay.${h} COMMAND replay_${h} ${replay_inputs}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(fuzz-replay.${h} PROPERTIES LABELS "fuzz-replay;unit" TIMEOUT 300
    ENVIRONMENT "${SAN_ENV}")
endforeach()

if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  set(DRIFTSYNC_FUZZ_DEFAULT ON)
else()
  set(DRIFTSYNC_FUZZ_DEFAULT OFF)
endif()
option(DRIFTSYNC_FUZZ "build the libFuzzer harnesses (needs clang)" ${DRIFTSYNC_FUZZ_DEFAULT})

if(DRIFTSYNC_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DRIFTSYNC_FUZZ needs clang (libFuzzer); configure with CC=clang")
  endif()
  # the built-in rules, embedded again for this library (Embed.cmake's own
  # output belongs to driftsync_core's directory)
  set(FUZZ_RULES_C ${CMAKE_CURRENT_BINARY_DIR}/fuzz_rules_yaml.c)
  add_custom_command(
    OUTPUT ${FUZZ_RULES_C}
    COMMAND ${CMAKE_COMMAND} -DEMBED_IN=${CMAKE_SOURCE_DIR}/mapping/rules.yaml
            -DEMBED_OUT=${FUZZ_RULES_C} -DEMBED_SYMBOL=map_rules_builtin
            -P ${CMAKE_SOURCE_DIR}/cmake/Embed.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/mapping/rules.yaml ${CMAKE_SOURCE_DIR}/cmake/Embed.cmake
    COMMENT "Embedding mapping/rules.yaml (fuzz core)"
    VERBATIM)
  set(FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=all)
  add_library(driftsync_fuzzcore OBJECT ${CORE_SOURCES} ${FUZZ_RULES_C})
  target_include_directories(driftsync_fuzzcore PUBLIC ${CMAKE_SOURCE_DIR}
    ${CMAKE_BINARY_DIR}/generated)
  target_compile_options(driftsync_fuzzcore PUBLIC -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer-no-link ${FUZZ_SAN})
  target_link_libraries(driftsync_fuzzcore PUBLIC PkgConfig::DEPS Threads::Threads
    driftsync_flags m)
  add_custom_target(fuzz_harnesses)
  foreach(h ${FUZZ_HARNESSES})
    add_executable(fuzz_${h} ${FUZZ_DIR}/fuzz_${h}.c)
    target_link_libraries(fuzz_${h} PRIVATE driftsync_fuzzcore)
    target_link_options(fuzz_${h} PRIVATE -fsanitize=fuzzer ${FUZZ_SAN})
    add_dependencies(fuzz_harnesses fuzz_${h})
  endforeach()
else()
  add_test(NAME fuzz.run COMMAND ${CMAKE_SOURCE_DIR}/scripts/fuzz 20
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(fuzz.run PROPERTIES LABELS fuzz TIMEOUT 900)
  add_test(NAME lint.cppcheck COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint cppcheck
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  add_test(NAME lint.clang-tidy COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint clang-tidy
    ${CMAKE_BINARY_DIR}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(lint.cppcheck lint.clang-tidy PROPERTIES LABELS lint TIMEOUT 300)
endif()
