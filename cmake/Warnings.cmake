# Warning flags live here, one comment each (curl's PickyWarnings habit).
add_library(driftsync_flags INTERFACE)
target_compile_definitions(driftsync_flags INTERFACE
  _GNU_SOURCE                                   # explicit_bzero, strndup, timegm
  $<$<CONFIG:Release,RelWithDebInfo>:_FORTIFY_SOURCE=2>)
target_compile_options(driftsync_flags INTERFACE
  -Wall -Wextra -Wpedantic                      # the baseline
  -Wformat=2                                    # printf-family misuse, non-literal formats
  -Wshadow                                      # a local hiding another is a bug magnet
  -Wstrict-prototypes -Wmissing-prototypes      # every non-static function has a header prototype
  -Wold-style-definition
  -Wpointer-arith -Wcast-qual -Wwrite-strings   # no casting away const, string literals are const
  -Wundef -Wvla                                 # no undefined macros in #if, no VLAs
  -Wimplicit-fallthrough
  -fstack-protector-strong
  $<$<BOOL:${DRIFTSYNC_WERROR}>:-Werror>)
target_link_options(driftsync_flags INTERFACE -Wl,-z,relro,-z,now)
