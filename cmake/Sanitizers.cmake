# -DCMAKE_BUILD_TYPE=Asan: AddressSanitizer + UndefinedBehaviorSanitizer,
# stopping at the first report (s2n-tls habit). The unit tests run under it.
set(CMAKE_C_FLAGS_ASAN
  "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
  CACHE STRING "C flags for the Asan build type" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_ASAN "-fsanitize=address,undefined"
  CACHE STRING "linker flags for the Asan build type" FORCE)
