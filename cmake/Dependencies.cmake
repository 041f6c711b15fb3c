# Every dependency is a Debian package installed by scripts/install-deps.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PETSC REQUIRED IMPORTED_TARGET PETSc>=3.18)
# PETSc.pc carries no MPI flags: link MPI explicitly, the same OpenMPI PETSc was built with.
find_package(MPI REQUIRED COMPONENTS C CXX)
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "bilevelbench needs the parallel (OpenMPI) HDF5: install libhdf5-openmpi-dev "
                      "(scripts/install-deps does)")
endif()
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(ZLIB REQUIRED)
if(BILEVEL_TESTS)
  find_package(GTest REQUIRED)
endif()
if(BILEVEL_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
