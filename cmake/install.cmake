# cmake --install: headers, libiotjobs (static, or shared with BUILD_SHARED_LIBS=ON, soname
# libiotjobs.so.MAJOR.MINOR), the two executables, the iotjobs::iotjobs package (find_package(iotjobs
# 0.2 CONFIG)) and iotjobs.pc (pkg-config).
include(CMakePackageConfigHelpers)

set(IOTJOBS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/iotjobs)

install(TARGETS iotjobs EXPORT iotjobsTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/iotjobs DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT iotjobsTargets NAMESPACE iotjobs:: DESTINATION ${IOTJOBS_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/iotjobsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/iotjobsConfig.cmake INSTALL_DESTINATION ${IOTJOBS_CMAKE_DIR})
# Before 1.0, a minor version is a new API: find_package(iotjobs 0.2) accepts 0.2.x only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iotjobsConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iotjobsConfig.cmake ${PROJECT_BINARY_DIR}/iotjobsConfigVersion.cmake
  DESTINATION ${IOTJOBS_CMAKE_DIR})

list(TRANSFORM IOTJOBS_PUBLIC_DEFINITIONS PREPEND "-D" OUTPUT_VARIABLE iotjobs_pc_flags)
list(JOIN iotjobs_pc_flags " " IOTJOBS_PC_DEFINITIONS)
# Relocatable: the prefix is found from the .pc file's own folder, so that `cmake --install --prefix P`
# (chosen at install time, not at configure time) gives a correct file.
file(RELATIVE_PATH IOTJOBS_PC_PREFIX_FROM_PCFILEDIR /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" IOTJOBS_PC_PREFIX_FROM_PCFILEDIR "${IOTJOBS_PC_PREFIX_FROM_PCFILEDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/iotjobs.pc.in ${PROJECT_BINARY_DIR}/iotjobs.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/iotjobs.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(IOTJOBS_BUILD_TOOLS)
  if(BUILD_SHARED_LIBS)
    set_target_properties(iotjobs_cli_main iotjobs-fake-iot PROPERTIES
      INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  endif()
  install(TARGETS iotjobs_cli_main iotjobs-fake-iot RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # bash-completion loads share/bash-completion/completions/<command> on first use.
  install(FILES ${PROJECT_SOURCE_DIR}/tools/iotjobs/completion.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME iotjobs)
endif()
