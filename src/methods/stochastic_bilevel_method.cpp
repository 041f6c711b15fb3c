#include "bilevel/methods/stochastic_bilevel_method.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/core/replicated_vec.hpp"
#include "bilevel/io/hdf5.hpp"
#include "bilevel/problems/run_spec.hpp"

// PetscObjectStateGet: documented public API, declared in the private header in PETSc 3.18.
#include <petsc/private/petscimpl.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace bilevel {

StochasticBilevelMethod::Schedule
StochasticBilevelMethod::Schedule::from_options(const RunSpec& run, double inner_decay,
                                                double outer_decay) {
  Schedule s{};
  s.batch_size = options::get_int("-alg_batch_size", 64, 1, 2000000000,
                                  "minibatch size of every sampled quantity (both sums)");
  s.step_size = options::get_positive("-alg_step_size", 0.1, "inner step rho (y and v)");
  s.outer_ratio =
      options::get_positive("-alg_outer_ratio", 1.0, "outer step gamma = rho / outer_ratio");
  s.inner_decay = options::get_real("-alg_inner_decay", inner_decay, 0.0, 1.0,
                                    "a: inner step rho / (k + 1)^a at iteration k");
  s.outer_decay = options::get_real("-alg_outer_decay", outer_decay, 0.0, 1.0,
                                    "b: outer step gamma / (k + 1)^b at iteration k");
  s.seed = run.seed;
  s.true_hypergradient = TrueHypergradient::requested();
  return s;
}

int StochasticBilevelMethod::inner_steps_from_options(int min_steps, const char* meaning) {
  return static_cast<int>(options::get_int("-alg_inner_steps", 10, min_steps, 1000000, meaning));
}

double StochasticBilevelMethod::Schedule::inner_step(long long k) const {
  return step_size / std::pow(static_cast<double>(k + 1), inner_decay);
}

double StochasticBilevelMethod::Schedule::outer_step(long long k) const {
  return step_size / outer_ratio / std::pow(static_cast<double>(k + 1), outer_decay);
}

void StochasticBilevelMethod::setup(Problem& problem, Vec x0) {
  problem_ = &problem;
  oracles_ = std::make_unique<MinibatchOracles>(problem);
  const FiniteSumProblem& sums = oracles_->sums();
  lower_sampler_.emplace(schedule_.seed, SampleRole::lower, sums.samples(SampleRole::lower),
                         schedule_.batch_size);
  upper_sampler_.emplace(schedule_.seed, SampleRole::upper, sums.samples(SampleRole::upper),
                         schedule_.batch_size);
  y_vec_ = problem.create_y();
  problem.initial_y(x0, y_vec_);
  if (problem.structure().exact_hypergradient) {
    report_grad_ = duplicate(x0);
    report_y_star_ = problem.create_y();
  } else if (schedule_.true_hypergradient) {
    true_hypergradient_ = std::make_unique<TrueHypergradient>(problem, x0, y_vec_);
  }
  x_ = gather_to_all(x0);
  y_ = gather_to_all(y_vec_);
  v_ = Vector::Zero(y_.size());
  iteration_ = 0;
  lower_draws_ = upper_draws_ = 0;
}

std::vector<long long> StochasticBilevelMethod::draw(SampleRole role) {
  return role == SampleRole::lower ? lower_sampler_->draw(lower_draws_++)
                                   : upper_sampler_->draw(upper_draws_++);
}

std::vector<long long> StochasticBilevelMethod::full_batch(SampleRole role) const {
  std::vector<long long> all(static_cast<std::size_t>(oracles_->sums().samples(role)));
  std::iota(all.begin(), all.end(), 0LL);
  return all;
}

long long StochasticBilevelMethod::full_batch_period(double period_frac) const {
  const FiniteSumProblem& sums = oracles_->sums();
  const double samples =
      static_cast<double>(sums.samples(SampleRole::lower) + sums.samples(SampleRole::upper));
  return std::max(1LL, static_cast<long long>(samples * period_frac /
                                              static_cast<double>(schedule_.batch_size)));
}

void StochasticBilevelMethod::step(Vec x, Record& record) {
  PetscObjectId id = 0;
  PetscObjectState state = 0;
  BB_PETSC(PetscObjectGetId(reinterpret_cast<PetscObject>(x), &id));
  BB_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(x), &state));
  if (id != x_id_ || state != x_state_)
    x_ = gather_to_all(x);
  const double rho = schedule_.inner_step(iteration_), gamma = schedule_.outer_step(iteration_);
  iterate(rho, gamma, record);
  ++iteration_;
  scatter_owned(x_, x);
  scatter_owned(y_, y_vec_);
  x_id_ = id;
  BB_PETSC(PetscObjectStateGet(reinterpret_cast<PetscObject>(x), &x_state_));
  record.set("inner_step_size", rho);
  record.set("outer_step_size", gamma);
}

void StochasticBilevelMethod::report(Vec x, Record& record) {
  if (true_hypergradient_) {
    const double norm = true_hypergradient_->norm(x, record);
    if (std::isfinite(norm))
      record.set("hypergrad_norm", norm);
    record.set("inner_distance", true_hypergradient_->lower_distance(y_vec_));
    return;
  }
  if (!report_grad_)
    return;
  problem_->exact_hypergradient(x, report_grad_, report_y_star_);
  PetscReal grad_norm = 0, distance = 0;
  BB_PETSC(VecNorm(report_grad_, NORM_2, &grad_norm));
  BB_PETSC(VecAXPY(report_y_star_, -1.0, y_vec_));
  BB_PETSC(VecNorm(report_y_star_, NORM_2, &distance));
  record.set("hypergrad_norm", grad_norm);
  record.set("inner_distance", distance);
}

void StochasticBilevelMethod::save_state(hid_t group) const {
  Algorithm::save_state(group);
  save_replicated(group, "v", v_);
  h5::write_attribute(group, "stochastic_iteration", iteration_);
  h5::write_attribute(group, "lower_draws", static_cast<long long>(lower_draws_));
  h5::write_attribute(group, "upper_draws", static_cast<long long>(upper_draws_));
  if (true_hypergradient_)
    true_hypergradient_->save_state(group);
}

void StochasticBilevelMethod::load_state(hid_t group) {
  Algorithm::load_state(group);
  y_ = gather_to_all(y_vec_);
  v_ = load_replicated(group, "v", y_.size());
  iteration_ = h5::read_int_attribute(group, "stochastic_iteration");
  lower_draws_ = static_cast<std::uint64_t>(h5::read_int_attribute(group, "lower_draws"));
  upper_draws_ = static_cast<std::uint64_t>(h5::read_int_attribute(group, "upper_draws"));
  if (true_hypergradient_)
    true_hypergradient_->load_state(group);
}

void StochasticBilevelMethod::save_replicated(hid_t group, const std::string& name,
                                              const Vector& value) const {
  h5::write_dense(problem_->comm(), group, name,
                  std::vector<double>(value.data(), value.data() + value.size()),
                  static_cast<hsize_t>(value.size()), 0);
}

StochasticBilevelMethod::Vector StochasticBilevelMethod::load_replicated(hid_t group,
                                                                         const std::string& name,
                                                                         Eigen::Index size) const {
  const std::vector<double> value = h5::read_all(group, name);
  if (static_cast<Eigen::Index>(value.size()) != size)
    throw InputError("restart file: /state/" + name + " has the wrong length");
  return Eigen::Map<const Vector>(value.data(), size);
}

} // namespace bilevel
