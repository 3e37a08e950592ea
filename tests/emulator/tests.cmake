# The local AWS emulator's own test suite (tests/emulator/tests/test_emulator.py,
# unittest): real botocore clients and the `aws` command line against the
# emulator. Run twice: with the python3 on PATH (pip botocore) and, when it
# has botocore, with Debian's /usr/bin/python3 (botocore 1.29), since the
# emulator must work with both. Label `emulator`.
find_program(DRIFTSYNC_EMULATOR_PYTHON NAMES python3)
if(DRIFTSYNC_EMULATOR_PYTHON)
  add_test(NAME emulator.selftest
    COMMAND ${DRIFTSYNC_EMULATOR_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/tests/test_emulator.py
    WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
  set_tests_properties(emulator.selftest PROPERTIES LABELS emulator TIMEOUT 600)
endif()
if(EXISTS /usr/bin/python3)
  execute_process(COMMAND /usr/bin/python3 -c "import botocore"
    RESULT_VARIABLE _emu_debian_botocore OUTPUT_QUIET ERROR_QUIET)
  if(_emu_debian_botocore EQUAL 0)
    add_test(NAME emulator.selftest-system-python
      COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/tests/test_emulator.py
      WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR})
    set_tests_properties(emulator.selftest-system-python PROPERTIES LABELS emulator TIMEOUT 600)
  endif()
endif()

# The Security Hub service's own tests and the dataset checks (unittest
# discovery; each file prints its own summary).
if(DRIFTSYNC_EMULATOR_PYTHON)
  foreach(t securityhub_service securityhub_e2e dataset fastpaths)
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/tests/test_${t}.py)
      add_test(NAME emulator.${t}
        COMMAND ${DRIFTSYNC_EMULATOR_PYTHON} -m unittest -v test_${t}
        WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}/tests)
      set_tests_properties(emulator.${t} PROPERTIES LABELS emulator TIMEOUT 600)
    endif()
  endforeach()
endif()
