#include "bilevel/core/oracle_counts.hpp"

namespace bilevel {

const char* OracleCounts::column(OracleKind kind) {
  static constexpr const char* kColumns[kOracleKinds] = {
      "calls_upper_gradient",   "calls_lower_gradient", "calls_hessian_vector",
      "calls_cross_derivative", "calls_inner_solve",    "calls_function_value"};
  return kColumns[static_cast<int>(kind)];
}

OracleCounts OracleCounts::since(const OracleCounts& earlier) const {
  OracleCounts delta = *this;
  for (int k = 0; k < kOracleKinds; ++k)
    delta.calls_[k] -= earlier.calls_[k];
  delta.samples_ -= earlier.samples_;
  return delta;
}

OracleCounts& OracleCounts::operator+=(const OracleCounts& other) {
  for (int k = 0; k < kOracleKinds; ++k)
    calls_[k] += other.calls_[k];
  samples_ += other.samples_;
  return *this;
}

OracleCounts OracleCounts::summed_over(MPI_Comm comm) const {
  std::array<long long, kOracleKinds + 1> values{};
  for (int k = 0; k < kOracleKinds; ++k)
    values[k] = calls_[k];
  values[kOracleKinds] = samples_;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), kOracleKinds + 1, MPI_LONG_LONG, MPI_SUM, comm);
  OracleCounts sum;
  for (int k = 0; k < kOracleKinds; ++k)
    sum.calls_[k] = values[k];
  sum.samples_ = values[kOracleKinds];
  return sum;
}

void OracleCounts::record(Record& record, bool samples_column) const {
  for (int k = 0; k < kOracleKinds; ++k)
    record.set(column(static_cast<OracleKind>(k)), static_cast<double>(calls_[k]));
  if (samples_column)
    record.set(kSamplesColumn, static_cast<double>(samples_));
}

} // namespace bilevel
