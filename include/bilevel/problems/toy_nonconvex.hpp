#pragma once
// The PGD-QP paper's nonconvex lower level (Appendix C.1.3, docs/algorithms.md §7.5): toy_sc's
// data, options and upper level f, with
//   g = cos(r),  r = 1/2 ||Hy - x||^2  (toy_sc's g),
// whose derivatives follow from r's by the chain rule:
//   grad g = -sin(r) grad r,   grad^2 g = -sin(r) grad^2 r - cos(r) grad r grad r'.
// g(x, .) is not convex (it is maximal where Hy = x), so there is no closed-form hypergradient.
#include "bilevel/problems/toy_sc.hpp"

namespace bilevel {

class ToyNonconvex final : public ToySc {
public:
  static constexpr ProblemStructure kStructure{.convexity = LowerConvexity::nonconvex};
  const ProblemStructure& structure() const override { return kStructure; }
  /// toy_sc's options, listed by -help under this problem's name.
  struct Config {
    static ToySc::Config from_options(const RunSpec& run) {
      return ToySc::Config::from_options(run, "problem toy_nonconvex");
    }
  };
  using ToySc::ToySc;

  std::string name() const override { return "toy_nonconvex"; }
  /// mu = 0 (not convex); L = |the dominant eigenvalue of grad^2_yy g(x, y)|, a local estimate.
  Curvature lower_curvature(Vec x, Vec y, CurvatureNeed) override;

protected:
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;
};

} // namespace bilevel
