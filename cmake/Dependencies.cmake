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
# Eigen hands its matrix products to BLAS (EIGEN_USE_BLAS, set on the library): the softmax
# oracles' tall-skinny products run ~2.5x faster in OpenBLAS's dgemm than in Eigen's own kernels
# (docs/performance.md). libblas.so is Debian's alternative, OpenBLAS-serial once
# libopenblas0-serial is installed (scripts/install-deps).
find_package(BLAS REQUIRED)
find_package(ZLIB REQUIRED)
if(BILEVEL_TESTS)
  find_package(GTest REQUIRED)
endif()
if(BILEVEL_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
