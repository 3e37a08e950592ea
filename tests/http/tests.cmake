# Real-socket test of providers/aws/http.c against a loopback Python server
# (tests/http/server.py, stdlib only; the openssl CLI makes its TLS
# certificate). Label `http`; runs in every build type, Asan included.
find_program(DRIFTSYNC_HTTP_TEST_PYTHON NAMES python3)
if(DRIFTSYNC_HTTP_TEST_PYTHON)
  add_executable(http_loopback ${CMAKE_CURRENT_LIST_DIR}/http_loopback.c)
  target_link_libraries(http_loopback PRIVATE driftsync_core driftsync_flags)
  target_include_directories(http_loopback PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
  add_test(NAME http.loopback
    COMMAND http_loopback ${CMAKE_CURRENT_LIST_DIR}/server.py ${DRIFTSYNC_HTTP_TEST_PYTHON}
      ${SHARED_DIR}/tools/sigv4-oracle
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests)
  set_tests_properties(http.loopback PROPERTIES LABELS http TIMEOUT 120
    ENVIRONMENT "${SAN_ENV}")
endif()
