# Install rules: headers, the exported INTERFACE target, a config file that finds the same
# dependencies, an architecture-independent version file, the shipped weights and samples.
#
# Two package configurations are generated from cmake/xaiConfig.cmake.in:
#  - the install tree's, installed to <prefix>/share/cmake/xai (written to
#    <build>/install-config/ so that it is never mistaken for the other);
#  - the build tree's, <build>/xaiConfig.cmake, next to an export of the target
#    (<build>/xaiTargets.cmake) and copies of the dependency scripts, so that a project can use
#    an uninstalled build with CMAKE_PREFIX_PATH=<build> (or xai_DIR=<build>). Its data
#    directory is the source tree's data/.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS xai EXPORT xaiTargets)
install(EXPORT xaiTargets NAMESPACE xai:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)

set(XAI_CONFIG_DATA_DIR "\${PACKAGE_PREFIX_DIR}/${CMAKE_INSTALL_DATADIR}/xai")
configure_package_config_file(cmake/xaiConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/install-config/xaiConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/xaiConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/install-config/xaiConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/xaiConfigVersion.cmake"
  cmake/xaiDependencies.cmake
  cmake/xaiTorch.cmake
  cmake/xaiOnnx.cmake
  cmake/xaiMpi.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)
install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/xai OPTIONAL)

# ---- the build tree's package ------------------------------------------------------------
export(EXPORT xaiTargets NAMESPACE xai:: FILE "${CMAKE_CURRENT_BINARY_DIR}/xaiTargets.cmake")
set(XAI_CONFIG_DATA_DIR "${XAI_DATA_DIR}")
configure_package_config_file(cmake/xaiConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/xaiConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_CURRENT_BINARY_DIR}"
  INSTALL_PREFIX "${CMAKE_CURRENT_BINARY_DIR}")
foreach(_xai_script IN ITEMS xaiDependencies xaiTorch xaiOnnx xaiMpi)
  configure_file("cmake/${_xai_script}.cmake" "${CMAKE_CURRENT_BINARY_DIR}/${_xai_script}.cmake" COPYONLY)
endforeach()
unset(_xai_script)
unset(XAI_CONFIG_DATA_DIR)
