#include "bilevel/io/eigen_dense.hpp"

#include "bilevel/io/hdf5.hpp"

namespace bilevel::h5 {

void write_matrix(MPI_Comm comm, hid_t loc, const std::string& name, const Eigen::MatrixXd& m) {
  std::vector<double> data(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      data.data(), m.rows(), m.cols()) = m;
  write_dense(comm, loc, name, data, static_cast<hsize_t>(m.rows()),
              static_cast<hsize_t>(m.cols()));
}

void write_vector(MPI_Comm comm, hid_t loc, const std::string& name, const Eigen::VectorXd& v) {
  write_dense(comm, loc, name, {v.data(), v.data() + v.size()}, static_cast<hsize_t>(v.size()), 0);
}

} // namespace bilevel::h5
