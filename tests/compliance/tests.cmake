# Compliance end-to-end test: the real binary against the emulator's sample
# organisation (tests/e2e/test_compliance.py). Label `compliance`.
find_program(DRIFTSYNC_COMPLIANCE_PYTHON NAMES python3)
add_test(NAME compliance.e2e
  COMMAND ${DRIFTSYNC_COMPLIANCE_PYTHON} ${CMAKE_SOURCE_DIR}/tests/e2e/test_compliance.py
          $<TARGET_FILE:driftsync>
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/e2e)
set_tests_properties(compliance.e2e PROPERTIES LABELS compliance TIMEOUT 900)
