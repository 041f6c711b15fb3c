#include "bilevel/methods/joint_method.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/solvers/joint_vector.hpp"

#include <cmath>

namespace bilevel {

JointMethod::Reporting JointMethod::Reporting::from_options() {
  Reporting r{};
  r.true_hypergradient = TrueHypergradient::requested();
  return r;
}

void JointMethod::setup(Problem& problem, Vec x0) {
  if (problem.lower_set() || problem.upper_set())
    throw InputError("algorithm " + name() + " moves (x, y) without projection; problem '" +
                     problem.name() + "' has a constraint set");
  problem_ = &problem;
  y_ = problem.create_y();
  problem.initial_y(x0, y_);
  grad_f_ = create_joint(x0, y_);
  curvature_ = problem.lower_curvature(x0, y_, CurvatureNeed::both);
  if (curvature_.mu > 0 && reporting_.true_hypergradient) {
    true_hypergradient_ = std::make_unique<TrueHypergradient>(problem, x0, y_);
    v_ = problem.create_y();
    BB_PETSC(VecSet(v_, 0.0));
  }
}

void JointMethod::upper_gradient(Vec x) {
  problem().upper_gradient(x, y_, x_part(grad_f_), y_part(grad_f_));
}

void JointMethod::move(Vec x, double step, Vec direction) {
  BB_PETSC(VecAXPY(x, step, x_part(direction)));
  BB_PETSC(VecAXPY(y_, step, y_part(direction)));
}

void JointMethod::report(Vec x, Record& record) {
  if (!true_hypergradient_)
    return;
  record.set("aid_formula_norm",
             true_hypergradient_->formula_norm(x, y_, v_, "hypergrad_ksp", record));
  const double norm = true_hypergradient_->norm(x, record);
  if (std::isfinite(norm))
    record.set("hypergrad_norm", norm);
}

void JointMethod::save_state(hid_t group) const {
  Algorithm::save_state(group);
  if (!true_hypergradient_)
    return;
  h5::write_vec(group, "report_v", v_);
  true_hypergradient_->save_state(group);
}

void JointMethod::load_state(hid_t group) {
  Algorithm::load_state(group);
  if (!true_hypergradient_ || !h5::exists(group, "report_v")) // files from before they were saved
    return;
  h5::read_vec(group, "report_v", v_);
  true_hypergradient_->load_state(group);
}

} // namespace bilevel
