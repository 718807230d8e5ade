# SPDX-License-Identifier: MIT
# Install rules (docs/install.md). `cmake --install BUILD [--prefix P]
# [--component C]` honours CMAKE_INSTALL_PREFIX, the GNUInstallDirs variables
# and DESTDIR. Components:
#   server   sbin/gatehouse, man pages, the default configuration, its page,
#            example configurations and modules' sources, systemd unit, logrotate
#   library  libgatehouse-sspi.so.N (runtime)
#   dev      headers (with compat/), the .so link, gatehouse-sspi.pc and
#            gatehouse-module.pc
# Files that name installed paths (pc files, the unit, the default
# configuration) are configured at install time, so `--prefix` given to
# `cmake --install` is the one they name.
include(GNUInstallDirs)

set(GH_SYSTEMD_UNITDIR "" CACHE STRING
    "systemd unit directory (default: <prefix>/lib/systemd/system; Debian 12 packages: /lib/systemd/system)")
set(GH_MODULEDIR "" CACHE STRING
    "shared-object modules directory (default: <libdir>/gatehouse/modules)")

# --- binaries and libraries
if(TARGET gatehouse)
  install(TARGETS gatehouse RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT server)
endif()
if(TARGET gatehouse-sspi)
  install(TARGETS gatehouse-sspi
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library NAMELINK_COMPONENT dev)
endif()

# --- headers: include/gatehouse/*.h and compat/
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/gatehouse
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")

# --- man pages, generated from docs/ by scripts/md2man
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  set(gh_man_pages "gatehouse.8" "gatehouse.conf.5")
  set(gh_man_outputs "")
  foreach(page ${gh_man_pages})
    string(REGEX MATCH "[0-9]$" sec ${page})
    string(REGEX REPLACE "\\.[0-9]$" "" name ${page})
    set(src ${PROJECT_SOURCE_DIR}/docs/man/${page}.md)
    file(GLOB gh_doc_pages ${PROJECT_SOURCE_DIR}/docs/*.md)
    # gatehouse(8) lists the commands the built binary has (main.c's table).
    set(cmds "")
    set(cmd_dep "")
    if(sec STREQUAL "8" AND TARGET gatehouse)
      set(cmds --commands-from $<TARGET_FILE:gatehouse>)
      set(cmd_dep gatehouse)
    endif()
    add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${page}
                       COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
                       COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/md2man
                               --name ${name} --section ${sec} --version ${PROJECT_VERSION}
                               ${cmds} ${src} -o ${PROJECT_BINARY_DIR}/man/${page}
                       DEPENDS ${src} ${gh_doc_pages} ${PROJECT_SOURCE_DIR}/scripts/md2man ${cmd_dep}
                       COMMENT "md2man ${page}" VERBATIM)
    list(APPEND gh_man_outputs ${PROJECT_BINARY_DIR}/man/${page})
    install(FILES ${PROJECT_BINARY_DIR}/man/${page}
            DESTINATION ${CMAKE_INSTALL_MANDIR}/man${sec} COMPONENT server)
  endforeach()
  add_custom_target(man ALL DEPENDS ${gh_man_outputs})
else()
  message(WARNING "python3 not found: man pages are neither built nor installed")
endif()

# --- documentation and examples (whatever examples/ holds: *.conf, modules, SSPI samples)
file(GLOB gh_example_confs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*.conf)
file(GLOB gh_example_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*.c)
install(FILES ${gh_example_confs} ${gh_example_srcs}
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT server)
# The SSPI samples (written the Windows way) are for library users: their own
# directory, so a package can give them to its development package.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/sspi/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/sspi-examples COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/dist/www/index.html
        DESTINATION ${CMAKE_INSTALL_DATADIR}/gatehouse/www COMPONENT server)

# --- files configured at install time by cmake/install_configured.cmake,
# which computes every path from the install-time prefix.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/gatehouse/module.h gh_abi_line
     REGEX "^#define GH_MODULE_ABI_VERSION ")
string(REGEX MATCH "[0-9]+" GH_MODULE_ABI "${gh_abi_line}")
set(gh_install_vars "
  set(gh_src \"${PROJECT_SOURCE_DIR}\")
  set(gh_gen \"${PROJECT_BINARY_DIR}/install-gen\")
  set(gh_version \"${PROJECT_VERSION}\")
  set(gh_abi_version \"${GH_MODULE_ABI}\")
  set(gh_libdir \"${CMAKE_INSTALL_LIBDIR}\")
  set(gh_includedir \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(gh_sbindir \"${CMAKE_INSTALL_SBINDIR}\")
  set(gh_datadir \"${CMAKE_INSTALL_DATADIR}\")
  set(gh_docdir \"${CMAKE_INSTALL_DOCDIR}\")
  set(gh_sysconfdir \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(gh_localstatedir \"${CMAKE_INSTALL_LOCALSTATEDIR}\")
  set(gh_moduledir \"${GH_MODULEDIR}\")
  set(gh_unitdir \"${GH_SYSTEMD_UNITDIR}\")
")
foreach(part dev server)
  install(CODE "set(gh_part ${part})${gh_install_vars}include(\"${PROJECT_SOURCE_DIR}/cmake/install_configured.cmake\")"
          COMPONENT ${part})
endforeach()
