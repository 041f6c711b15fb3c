#pragma once
// ffoqp on a BoxQp (see box_qp_oracle.hpp): the rows within `active_tolerance` of a bound are
// fixed (dy_A = 0), the free rows solve H_FF w_F = (dl/dy)_F. H_FF is extracted as an assembled
// submatrix (MatCreateSubMatrix), so the Krylov vectors have only |F| entries; CG without a
// preconditioner by default (-<prefix>ffoqp_ksp_type, -<prefix>ffoqp_pc_type, ...).
#include "bilevel/qp/box_qp_oracle.hpp"

namespace bilevel {

class BoxFfoQpOracle final : public BoxQpOracle {
public:
  BoxFfoQpOracle(double active_tolerance, double rtol, std::string prefix)
      : active_tolerance_(active_tolerance), rtol_(rtol), prefix_(std::move(prefix)) {}
  Outcome adjoint(const BoxQp& qp, Vec y, Vec gradient, Vec dl_dy, Vec w) override;

private:
  double active_tolerance_, rtol_;
  std::string prefix_;
};

} // namespace bilevel
