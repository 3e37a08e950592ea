# The HTML report rendered in headless Chromium, and the Threat Dragon v2
# export validated against Threat Dragon's schema: the real binary against
# the local AWS emulator (tests/report/test_report.py). Label `report`.
# Needs chromium and python3-jsonschema (scripts/setup); fails, never skips,
# without them.
find_program(DRIFTSYNC_REPORT_PYTHON NAMES python3)
add_test(NAME report.html
  COMMAND ${DRIFTSYNC_REPORT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_report.py
    $<TARGET_FILE:driftsync> ${SHARED_DIR} Html
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
add_test(NAME report.threatdragon
  COMMAND ${DRIFTSYNC_REPORT_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_report.py
    $<TARGET_FILE:driftsync> ${SHARED_DIR} ThreatDragon
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(report.html report.threatdragon PROPERTIES LABELS report TIMEOUT 600)
