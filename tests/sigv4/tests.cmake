# SigV4 differential test: driftsync's signer against botocore's
# (shared/tools/sigv4-oracle) on >= 2,000 generated requests. sigv4-sign is a
# test tool, not part of the product: it speaks the oracle's JSON-lines
# protocol so differential.py can feed both the same input.
add_executable(sigv4-sign ${CMAKE_CURRENT_LIST_DIR}/sigv4-sign.c)
target_link_libraries(sigv4-sign PRIVATE driftsync_core driftsync_flags)

add_test(NAME sigv4.differential
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/differential.py
    --tool $<TARGET_FILE:sigv4-sign>
    --oracle ${SHARED_DIR}/tools/sigv4-oracle
    --count 2400 --seed 20150830)
set_tests_properties(sigv4.differential PROPERTIES LABELS sigv4 TIMEOUT 600
  ENVIRONMENT "${SAN_ENV}")
