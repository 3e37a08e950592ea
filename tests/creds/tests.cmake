# Credentials chain end to end: `driftsync whoami` against the local AWS
# emulator (STS) and loopback IMDS / container servers (run_creds_tests.py).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND)
  add_test(NAME creds.whoami
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/run_creds_tests.py
      $<TARGET_FILE:driftsync> ${CMAKE_SOURCE_DIR})
  set_tests_properties(creds.whoami PROPERTIES LABELS creds TIMEOUT 300)
endif()
