# Install rules: headers, the exported INTERFACE target, a config file that finds the same
# dependencies, an architecture-independent version file, the shipped weights and samples.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS xai EXPORT xaiTargets)
install(EXPORT xaiTargets NAMESPACE xai:: DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)

configure_package_config_file(cmake/xaiConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/xaiConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/xaiConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${CMAKE_CURRENT_BINARY_DIR}/xaiConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/xaiConfigVersion.cmake"
  cmake/xaiDependencies.cmake
  cmake/xaiTorch.cmake
  cmake/xaiMpi.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cmake/xai)
install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/xai OPTIONAL)
