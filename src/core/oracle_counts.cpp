#include "bilevel/core/oracle_counts.hpp"

namespace bilevel {

void OracleCounts::record(Record& record) const {
  static constexpr const char* kColumns[kOracleKinds] = {
      "calls_upper_gradient", "calls_lower_gradient", "calls_hessian_vector",
      "calls_cross_derivative", "calls_inner_solve"};
  for (int k = 0; k < kOracleKinds; ++k)
    record.set(kColumns[k], static_cast<double>(calls_[k]));
  record.set("samples", static_cast<double>(samples_));
}

} // namespace bilevel
