#pragma once
// Eigen matrices and vectors that every rank holds (replicated problem data), written as
// h5::write_dense datasets for -export_problem: matrices row-major (rows x cols), vectors 1-D.
#include <Eigen/Dense>
#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace bilevel::h5 {

void write_matrix(MPI_Comm comm, hid_t loc, const std::string& name, const Eigen::MatrixXd& m);
void write_vector(MPI_Comm comm, hid_t loc, const std::string& name, const Eigen::VectorXd& v);

} // namespace bilevel::h5
