#pragma once
// The IGFM paper's hard instances (docs/algorithms.md §7.11-7.13): one-dimensional x, lower
// levels that are convex but not strongly convex in y, so Y*(x) is a set or jumps and the
// implicit-function baselines (AID, ITD) have nothing to differentiate. Each has its optimistic
// hyper-objective phi(x) = min_{y in Y*(x)} f(x, y) in closed form, which exact() returns
// together with the minimising y* (the ground truth SGM and IGFM are tested against).
#include "bilevel/problems/replicated_problem.hpp"
#include "bilevel/problems/run_spec.hpp"
#include "bilevel/sets/box.hpp"

namespace bilevel {

/// Shared layout: x in R, data-free, the starting x from -problem_x0.
class HardInstance : public ReplicatedProblem {
public:
  struct Settings {
    double x0;
  };
  /// Reads -problem_x0 under the help section `section`.
  static Settings read_settings(const char* section, double default_x0);
  PetscInt nx() const override { return 1; }
  void export_data(hid_t group) const override;

protected:
  HardInstance(MPI_Comm comm, Settings settings) : ReplicatedProblem(comm), settings_(settings) {}
  Vector initial_x() const override { return Vector::Constant(1, settings_.x0); }

private:
  Settings settings_;
};

/// The two examples whose y is a scalar confined to Y = [-1, 1].
class HardUnitInterval : public HardInstance {
public:
  PetscInt ny() const override { return 1; }
  const ConstraintSet* lower_set() const override { return &box_; }

protected:
  using HardInstance::HardInstance;

private:
  Box box_{-1.0, 1.0};
};

/// Example 5.1: f = x y, g = 0, Y = [-1, 1]. Every y in Y solves the lower level, so
/// phi(x) = min_{|y| <= 1} x y = -|x| with y* = -sign(x): Lipschitz, nonsmooth at 0, and
/// unbounded below, so descent on phi moves |x| up at unit speed.
class HardNonsmooth final : public HardUnitInterval {
public:
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::bounds,
                                               .convexity = LowerConvexity::convex,
                                               .exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config : Settings {
    static Config from_options(const RunSpec& /*no random data*/) {
      return {read_settings("problem hard_nonsmooth", 1.0)};
    }
  };
  HardNonsmooth(MPI_Comm comm, Config config) : HardUnitInterval(comm, config) {}

  std::string name() const override { return "hard_nonsmooth"; }

protected:
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;
};

/// Example 5.3 (Liu et al. 2020): f = (x - y2)^2 + (y1 - 1)^2, g = y1^2 - 2 x y1, y in R^2
/// unconstrained. g fixes y1 = x and leaves y2 free: Y*(x) = {(x, s) : s in R}. The optimistic
/// choice s = x zeroes the first term of f, so
///   phi(x) = min_s (x - s)^2 + (x - 1)^2 = (x - 1)^2,   y*(x) = (x, x),
/// with the unique stationary point x* = 1 (phi = 0). grad^2_yy g = diag(2, 0) is singular,
/// which is why AID/ITD's implicit formula fails here.
class HardLiu final : public HardInstance {
public:
  static constexpr ProblemStructure kStructure{.convexity = LowerConvexity::convex,
                                               .exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config : Settings {
    static Config from_options(const RunSpec& /*no random data*/) {
      return {read_settings("problem hard_liu", 0.0)};
    }
  };
  HardLiu(MPI_Comm comm, Config config) : HardInstance(comm, config) {}

  std::string name() const override { return "hard_liu"; }
  PetscInt ny() const override { return 2; }

protected:
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;
};

/// Example 4.1: f = x^2 + y, g = -x y, Y = [-1, 1]. Y*(x) = {sign(x)} for x != 0 and all of Y
/// at x = 0, so phi(x) = x^2 + sign(x) with phi(0) = -1 (optimistic: y = -1): lower
/// semicontinuous, discontinuous at 0, minimised at x* = 0 where phi = -1.
class HardDiscontinuous final : public HardUnitInterval {
public:
  static constexpr ProblemStructure kStructure{.constraints = LowerConstraints::bounds,
                                               .convexity = LowerConvexity::convex,
                                               .exact_hypergradient = true};
  const ProblemStructure& structure() const override { return kStructure; }
  struct Config : Settings {
    static Config from_options(const RunSpec& /*no random data*/) {
      return {read_settings("problem hard_discontinuous", 1.0)};
    }
  };
  HardDiscontinuous(MPI_Comm comm, Config config) : HardUnitInterval(comm, config) {}

  std::string name() const override { return "hard_discontinuous"; }

protected:
  double f(const Vector& x, const Vector& y) override;
  void grad_f(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  double g(const Vector& x, const Vector& y) override;
  void grad_g(const Vector& x, const Vector& y, Vector* gx, Vector* gy) override;
  Vector hess_yy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_xy_g(const Vector& x, const Vector& y, const Vector& v) override;
  Vector hess_yx_g(const Vector& x, const Vector& y, const Vector& w) override;
  void exact(const Vector& x, Vector& grad, Vector& y_star) override;
};

} // namespace bilevel
