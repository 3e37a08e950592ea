# Install rules and the Debian package (CPack).
#
#   cmake --install BUILD [--prefix /usr]       (DESTDIR=... works too)
#   cd BUILD && cpack -G DEB                    (driftsync_VERSION_ARCH.deb)
#
# Puts the binary (top-level CMakeLists.txt), the systemd units, the man
# pages driftsync(8) and driftsync.yaml(5), the mapping rules (for
# reference: the built-in copy is compiled in), the example configuration
# under the documentation, and the example as SYSCONFDIR/driftsync/
# driftsync.yaml only when no file is there yet: an edited configuration is
# never overwritten. The units name the binary and the configuration by
# absolute path; those are rewritten at install time from the effective
# prefix (--prefix, DESTDIR-independent), so `--prefix /usr/local` gives a
# unit that runs /usr/local/bin/driftsync with /usr/local/etc/driftsync/.
include(GNUInstallDirs)

set(DRIFTSYNC_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "systemd unit directory (relative to the install prefix, or absolute)")

install(FILES ${CMAKE_SOURCE_DIR}/docs/driftsync.8
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/docs/driftsync.yaml.5
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${CMAKE_SOURCE_DIR}/mapping/rules.yaml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/driftsync)
install(FILES ${CMAKE_SOURCE_DIR}/examples/driftsync.yaml
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Values the install-time code below needs (evaluated now, at configure time).
install(CODE "
set(DS_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
set(DS_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(DS_UNIT_DIR \"${DRIFTSYNC_SYSTEMD_UNIT_DIR}\")
")
# Evaluated at install time: CMAKE_INSTALL_PREFIX is then the effective
# prefix (--prefix, or CPack's packaging prefix).
install(CODE [[
if(IS_ABSOLUTE "${DS_UNIT_DIR}")
  set(ds_unit_dir "${DS_UNIT_DIR}")
else()
  set(ds_unit_dir "${CMAKE_INSTALL_PREFIX}/${DS_UNIT_DIR}")
endif()
# GNUInstallDirs' rule: prefix /usr keeps its configuration in /etc
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(ds_etc "/etc")
else()
  set(ds_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(ds_bin "${CMAKE_INSTALL_PREFIX}/${DS_BINDIR}/driftsync")
foreach(unit driftsync.service driftsync-once.service driftsync.timer)
  file(READ "${DS_SOURCE_DIR}/systemd/${unit}" text)
  string(REPLACE "/usr/bin/driftsync" "${ds_bin}" text "${text}")
  string(REPLACE "/etc/driftsync/" "${ds_etc}/driftsync/" text "${text}")
  set(dest "$ENV{DESTDIR}${ds_unit_dir}/${unit}")
  message(STATUS "Installing: ${dest}")
  file(WRITE "${dest}" "${text}")
  file(CHMOD "${dest}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${dest}")
endforeach()
set(conf "$ENV{DESTDIR}${ds_etc}/driftsync/driftsync.yaml")
if(EXISTS "${conf}")
  message(STATUS "Keeping existing: ${conf}")
else()
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${ds_etc}/driftsync")
  file(COPY_FILE "${DS_SOURCE_DIR}/examples/driftsync.yaml" "${conf}")
  # readable by the service's dynamic user via systemd's ConfigurationDirectory;
  # never writable by others (driftsync refuses such a file)
  file(CHMOD "${conf}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  message(STATUS "Installing: ${conf}")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${conf}")
endif()
]])

# ---- Debian package ----
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "driftsync")
set(CPACK_PACKAGE_VENDOR "driftsync")
set(CPACK_PACKAGE_CONTACT "driftsync maintainers <driftsync@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps per-VPC threat models in sync with AWS")
set(CPACK_PACKAGE_DESCRIPTION
  "driftsync reads AWS Config and Security Hub, maps every VPC to a threat model, and\nrecords drift between the saved models and what is deployed. Runs as a systemd\nservice (driftsync.service) or from a timer (driftsync.timer).")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libcurl4, libjansson4, libyaml-0-2, libsqlite3-0, libssl3")
if(JEMALLOC_FOUND)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libjemalloc2")
endif()
# the configuration under /etc is a conffile: dpkg keeps local edits on upgrade
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "/etc/driftsync/driftsync.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
