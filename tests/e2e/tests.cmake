# End-to-end tests: the real binary against the local AWS emulator and the
# sample organisation (tests/e2e/test_pipeline.py). Label `e2e`.
find_program(DRIFTSYNC_E2E_PYTHON NAMES python3)
add_test(NAME e2e.pipeline
  COMMAND ${DRIFTSYNC_E2E_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_pipeline.py $<TARGET_FILE:driftsync>
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(e2e.pipeline PROPERTIES LABELS e2e TIMEOUT 900)
