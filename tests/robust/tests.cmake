# Robustness and security tests (tests/robust/, see README.md): crash
# consistency under SIGKILL, fault storms, hostile input. Label `robust`.
# Default counts keep the whole label under ~6 minutes on 2 cores; the long
# versions take counts as arguments (README.md).
find_program(DRIFTSYNC_ROBUST_PYTHON NAMES python3)
foreach(t crash faultstorm hostile tls)
  add_test(NAME robust.${t}
    COMMAND ${DRIFTSYNC_ROBUST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.py
            $<TARGET_FILE:driftsync> ${SHARED_DIR}
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(robust.${t} PROPERTIES LABELS robust TIMEOUT 420)
endforeach()
add_test(NAME robust.secrets
  COMMAND ${DRIFTSYNC_ROBUST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/test_secrets.py
          $<TARGET_FILE:driftsync> ${SHARED_DIR}
  WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
set_tests_properties(robust.secrets PROPERTIES LABELS robust TIMEOUT 120)
