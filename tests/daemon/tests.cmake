# Daemon and system-integration tests (label `daemon`): the real binary
# driven like systemd would (tests/daemon/test_daemon.py), the systemd unit
# checks, install + Debian package, man pages, and a leak soak.
#
# Soak: on the Asan build, 200 runs in one daemon under LeakSanitizer;
# otherwise 300 runs with the resident size checked flat, plus 15 runs
# under valgrind when it is installed. Long version: tests/daemon/soak.py
# --help (README in its docstring).
find_program(DRIFTSYNC_DAEMON_PYTHON NAMES python3)
set(_dd ${CMAKE_CURRENT_LIST_DIR})
set(_daemon_env
  "ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:abort_on_error=0"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

add_test(NAME daemon.signals
  COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/test_daemon.py $<TARGET_FILE:driftsync>
  WORKING_DIRECTORY ${_dd})
set_tests_properties(daemon.signals PROPERTIES LABELS daemon TIMEOUT 900
  ENVIRONMENT "${_daemon_env}")

add_test(NAME daemon.units
  COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/check_system.py units $<TARGET_FILE:driftsync>
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(daemon.units PROPERTIES LABELS daemon TIMEOUT 120 SKIP_RETURN_CODE 77)

add_test(NAME daemon.install
  COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/check_system.py install $<TARGET_FILE:driftsync>
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(daemon.install PROPERTIES LABELS daemon TIMEOUT 600)

add_test(NAME daemon.malloc
  COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/check_system.py malloc $<TARGET_FILE:driftsync>
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(daemon.malloc PROPERTIES LABELS daemon TIMEOUT 60)

add_test(NAME daemon.man
  COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/check_system.py man $<TARGET_FILE:driftsync>
          ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(daemon.man PROPERTIES LABELS daemon TIMEOUT 120)

if(CMAKE_BUILD_TYPE STREQUAL "Asan")
  add_test(NAME daemon.soak
    COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/soak.py $<TARGET_FILE:driftsync> --runs 200)
  set_tests_properties(daemon.soak PROPERTIES LABELS daemon TIMEOUT 900
    ENVIRONMENT "${_daemon_env}")
else()
  add_test(NAME daemon.soak
    COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/soak.py $<TARGET_FILE:driftsync> --runs 300
            --max-rss-growth-kb 4096)
  set_tests_properties(daemon.soak PROPERTIES LABELS daemon TIMEOUT 900)
  find_program(DRIFTSYNC_VALGRIND NAMES valgrind)
  if(DRIFTSYNC_VALGRIND)
    add_test(NAME daemon.soak-valgrind
      COMMAND ${DRIFTSYNC_DAEMON_PYTHON} ${_dd}/soak.py $<TARGET_FILE:driftsync> --runs 15
              --valgrind)
    set_tests_properties(daemon.soak-valgrind PROPERTIES LABELS daemon TIMEOUT 900)
  endif()
endif()
