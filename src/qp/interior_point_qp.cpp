#include "bilevel/qp/interior_point_qp.hpp"

#include "bilevel/core/error.hpp"
#include "bilevel/core/options.hpp"
#include "bilevel/qp/active_set_factor.hpp"
#include "bilevel/qp/interior_point_qcqp.hpp"
#include "bilevel/qp/multiplier_newton.hpp"
#include "bilevel/qp/step_to_boundary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace bilevel {

namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;

/// Factors H = build(), adding a relative shift of 1e-14 to its diagonal if it is not positive
/// definite: Q may be only semidefinite on directions no active row fixes yet (an LP-like
/// layer), and the shift keeps the factor finite while changing the step at round-off. `build`
/// returns a dense matrix or the diagonal of a diagonal one; it is called again for the shift,
/// since the dense factor overwrites its H.
template <class Build> HessianFactor shifted_factor(Build build) {
  HessianFactor factor(build());
  if (!factor.ok()) {
    auto H = build();
    auto diagonal = [&]() -> decltype(auto) {
      if constexpr (std::is_same_v<decltype(H), Vector>)
        return H.array();
      else
        return H.diagonal().array();
    };
    diagonal() += 1e-14 * (1.0 + diagonal().abs().maxCoeff());
    factor = HessianFactor(std::move(H));
  }
  return factor;
}

/// One iteration's factored Newton matrix, in the reduction chosen for the QP: to y (the active-set
/// factor with no active rows) or to the multipliers (MultiplierNewton, whose M is factored).
class NewtonFactor {
public:
  explicit NewtonFactor(ActiveSetFactor to_y) : factor_(std::move(to_y)) {}
  NewtonFactor(const MultiplierNewton& reduction, HessianFactor M)
      : reduction_(&reduction), factor_(std::move(M)) {}

  bool ok() const {
    return std::visit([](const auto& factor) { return factor.ok(); }, factor_);
  }
  /// The factor's n x n (or (m + p) x (m + p)) storage, for the next iteration's.
  Matrix release_storage() && {
    return std::visit([](auto& factor) { return std::move(factor).release_storage(); }, factor_);
  }
  /// The reduction to the multipliers and M's factor, or null for the reduction to y.
  const MultiplierNewton* to_multipliers() const { return reduction_; }
  const HessianFactor& M() const { return std::get<HessianFactor>(factor_); }
  const ActiveSetFactor& to_y() const { return std::get<ActiveSetFactor>(factor_); }

private:
  const MultiplierNewton* reduction_ = nullptr;
  std::variant<ActiveSetFactor, HessianFactor> factor_;
};

/// The Newton matrix for W = diag(w), w = lambda ./ s, factored once per iteration and used for
/// both the predictor and the corrector right-hand sides. Reduced to the multipliers when
/// `multipliers` is given: M = C Q^{-1} C' + diag(1 ./ w, 0). Otherwise [H A'; A 0] with
/// H = Q + G'WG: with BoundStructure H is diagonal and the factor is the Schur complement
/// on the equality rows alone; otherwise a Cholesky factor of the dense H, formed by a symmetric
/// rank-k update H = Q + (W^1/2 G)'(W^1/2 G) (half a general product; the factor reads only the
/// lower triangle). `scaled` is W^1/2 G's storage and `storage` the previous factor's (empty at
/// first), both kept across iterations: a fresh n x n matrix per iteration cost its allocation,
/// page faults and a full copy of Q, where only Q's lower triangle is needed. A diagonal Q (the
/// layers' Q = I), if `q_diagonal` is given, is written from its diagonal: Q is read nowhere else
/// in the iteration, and copying its lower triangle from memory cost 0.60 ms against 0.50 at
/// n = 1000.
NewtonFactor reduced_newton(const DenseQp& qp, const BoundStructure* bounds,
                            const MultiplierNewton* multipliers, const Vector* q_diagonal,
                            const Vector& w, Matrix& scaled, Matrix& storage) {
  if (multipliers) {
    const Vector d = w.cwiseInverse();
    return NewtonFactor(*multipliers,
                        shifted_factor([&] { return multipliers->matrix(d, std::move(storage)); }));
  }
  if (bounds)
    return NewtonFactor(
        ActiveSetFactor(shifted_factor([&] { return bounds->hessian(w); }), qp.G, qp.A, {}));
  if (qp.G.rows() > 0)
    scaled.noalias() = w.cwiseSqrt().asDiagonal() * qp.G;
  return NewtonFactor(ActiveSetFactor(shifted_factor([&] {
                                        Matrix H = std::move(storage);
                                        H.resize(qp.n(), qp.n());
                                        if (q_diagonal) {
                                          H.triangularView<Eigen::StrictlyLower>().setZero();
                                          H.diagonal() = *q_diagonal;
                                        } else {
                                          H.triangularView<Eigen::Lower>() = qp.Q;
                                        }
                                        if (qp.G.rows() > 0)
                                          H.selfadjointView<Eigen::Lower>().rankUpdate(
                                              scaled.transpose());
                                        return H;
                                      }),
                                      qp.G, qp.A, {}));
}

/// The products with Q and G the iteration needs: through BoundStructure when the QP has it, Q's
/// by its diagonal when it is diagonal, otherwise the dense products (as Eigen expressions that
/// accumulate into their target, one BLAS call each).
class Products {
public:
  Products(const DenseQp& qp, const BoundStructure* bounds)
      : qp_(qp), bounds_(bounds), q_diagonal_(bounds ? bounds->q_diagonal : diagonal_of(qp.Q)),
        g_max_abs_(
            bounds
                ? (bounds->coefficient.size() ? bounds->coefficient.lpNorm<Eigen::Infinity>() : 0.0)
                : (qp.G.size() ? qp.G.lpNorm<Eigen::Infinity>() : 0.0)) {}

  Vector Q(const Vector& v) const {
    return q_diagonal_ ? Vector(q_diagonal_->cwiseProduct(v)) : Vector(qp_.Q * v);
  }
  Vector G(const Vector& v) const { return bounds_ ? bounds_->times(v) : Vector(qp_.G * v); }
  Vector Gt(const Vector& u) const {
    return bounds_ ? bounds_->transpose_times(u) : Vector(qp_.G.transpose() * u);
  }
  /// out += alpha G'u.
  void add_Gt(Vector& out, const Vector& u, double alpha) const {
    if (bounds_)
      out += alpha * bounds_->transpose_times(u);
    else
      out.noalias() += alpha * qp_.G.transpose() * u;
  }
  /// Row i of G times v.
  double G_row(Eigen::Index i, const Vector& v) const {
    if (!bounds_)
      return qp_.G.row(i).dot(v);
    const Eigen::Index j = bounds_->column[static_cast<std::size_t>(i)];
    return j >= 0 ? bounds_->coefficient[i] * v[j] : 0.0;
  }
  /// Q's diagonal if Q is diagonal, else null.
  const Vector* Q_diagonal() const { return q_diagonal_ ? &*q_diagonal_ : nullptr; }
  /// max |G_ij|.
  double G_max_abs() const { return g_max_abs_; }

private:
  const DenseQp& qp_;
  const BoundStructure* bounds_;
  std::optional<Vector> q_diagonal_; ///< if Q is diagonal (also with a general G)
  double g_max_abs_;
};

struct Step {
  Vector dy, ds, dz, dnu;
  /// Products the first refinement's residual needs again (each saves a pass over G): G dy when
  /// the step was reduced to y, G'dz + A'dnu when it was reduced to the multipliers; emptied
  /// once a refinement changes the step.
  Vector g_dy, c_multipliers;
};

/// What a step reduced to the multipliers may share with the other of its iteration: -r_d
/// reduced (the predictor and the corrector have the same r_d), and whether it needs dy (the
/// predictor needs only ds and dz, for the step length and the second-order term).
struct Shared {
  const Vector* reduced_d = nullptr; ///< MultiplierNewton::reduce(-r_d)
  bool dy = true;
};

/// The Newton step for the residuals (r_d, r_pi, r_pe) and the complementarity target r_c:
///   Q dy + G'dz + A'dnu = -r_d,  G dy + ds = -r_pi,  A dy = -r_pe,  Z ds + S dz = -r_c.
Step newton_step(const DenseQp& qp, const Products& ops, const NewtonFactor& K, const Vector& s,
                 const Vector& z, const Vector& r_d, const Vector& r_pi, const Vector& r_pe,
                 const Vector& r_c, Shared shared = {}) {
  Step st;
  if (const MultiplierNewton* multipliers = K.to_multipliers()) {
    // ds = -(r_c + S dz) ./ z turns G dy + ds = -r_pi into G dy - (s ./ z) dz = r_c ./ z - r_pi.
    const Vector f = -r_d;
    std::optional<Vector> own;
    const Vector& reduced =
        shared.reduced_d ? *shared.reduced_d : own.emplace(multipliers->reduce(f));
    multipliers->solve_multipliers(K.M(), reduced, r_c.cwiseQuotient(z) - r_pi, -r_pe, st.dz,
                                   st.dnu);
    st.ds = -(r_c + s.cwiseProduct(st.dz)).cwiseQuotient(z);
    if (shared.dy)
      multipliers->solve_y(f, st.dz, st.dnu, st.dy, st.c_multipliers);
    return st;
  }
  Vector u; // dz = u + W G dy
  Vector rhs = -r_d;
  if (qp.G.rows() > 0) {
    u = (z.cwiseProduct(r_pi) - r_c).cwiseQuotient(s);
    ops.add_Gt(rhs, u, -1.0);
  }
  K.to_y().solve(rhs, -r_pe, st.dy, st.dnu);
  if (qp.G.rows() > 0) {
    st.g_dy = ops.G(st.dy);
    st.ds = -r_pi - st.g_dy;
    st.dz = u + z.cwiseQuotient(s).cwiseProduct(st.g_dy);
  }
  return st;
}

/// newton_step followed by iterative refinement: the residual of the unreduced system is
/// solved again with the same factor and added. Near the solution W = lambda ./ s spans many
/// orders of magnitude (degenerate rows have both -> 0), and the reduced matrix loses the digits
/// the stationarity residual needs; two refinements recover them. Far from the solution the
/// first residual is usually already below `negligible` (a thousandth of the KKT tolerance: it
/// cannot change which iterate meets the tolerance), and the refinements stop there: each costs
/// a solve and four products with G, which the dense forward of large layers otherwise spends a
/// fifth of its time on.
Step refined_step(const DenseQp& qp, const Products& ops, const NewtonFactor& K, const Vector& s,
                  const Vector& z, const Vector& r_d, const Vector& r_pi, const Vector& r_pe,
                  const Vector& r_c, double negligible, Shared shared = {}) {
  Step st = newton_step(qp, ops, K, s, z, r_d, r_pi, r_pe, r_c, shared);
  for (int refinement = 0; refinement < 2; ++refinement) {
    // e = (the system applied to the step) + (the residuals): zero for an exact solve.
    Vector e_d = ops.Q(st.dy) + r_d, e_pi, e_pe, e_c;
    const bool kept_c = st.c_multipliers.size() > 0;
    if (kept_c)
      e_d += st.c_multipliers;
    if (qp.G.rows() > 0) {
      if (!kept_c)
        ops.add_Gt(e_d, st.dz, 1.0);
      e_pi = (st.g_dy.size() ? st.g_dy : ops.G(st.dy)) + st.ds + r_pi;
      e_c = z.cwiseProduct(st.ds) + s.cwiseProduct(st.dz) + r_c;
    }
    if (qp.A.rows() > 0) {
      if (!kept_c)
        e_d.noalias() += qp.A.transpose() * st.dnu;
      e_pe = qp.A * st.dy + r_pe;
    } else {
      e_pe.resize(0);
    }
    const auto norm = [](const Vector& v) { return v.size() ? v.lpNorm<Eigen::Infinity>() : 0.0; };
    if (std::max({norm(e_d), norm(e_pi), norm(e_pe), norm(e_c)}) <= negligible)
      break;
    const Step c = newton_step(qp, ops, K, s, z, e_d, e_pi, e_pe, e_c);
    st.g_dy.resize(0); // the kept products are of the step before this correction
    st.c_multipliers.resize(0);
    st.dy += c.dy;
    st.dnu += c.dnu;
    if (qp.G.rows() > 0) {
      st.ds += c.ds;
      st.dz += c.dz;
    }
  }
  return st;
}

bool finite(const Step& st) {
  return st.dy.allFinite() && st.ds.allFinite() && st.dz.allFinite() && st.dnu.allFinite();
}

/// Whether (z, nu), normalised, approximately certifies that G y <= h, A y = b is empty
/// (Farkas: G'z + A'nu = 0, z >= 0 and h'z + b'nu < 0).
bool farkas_certificate(const DenseQp& qp, const Products& ops, const Vector& z, const Vector& nu) {
  const double size = z.lpNorm<1>() + nu.lpNorm<1>();
  if (!(size > 0))
    return false;
  // The gap first: it costs O(m + p), while the combination reads all of G, and every iteration
  // checks. With h >= 0 and no equalities (the layers of docs/ffo-qp-layers.md) the gap is never
  // negative.
  const double gap = (qp.h.dot(z) + qp.b.dot(nu)) / size;
  if (!(gap < -1e-7))
    return false;
  Vector combination = Vector::Zero(qp.n());
  if (qp.G.rows() > 0)
    combination += ops.Gt(z);
  if (qp.A.rows() > 0)
    combination += qp.A.transpose() * nu;
  const double scale =
      1.0 + std::max(ops.G_max_abs(), qp.A.size() ? qp.A.lpNorm<Eigen::Infinity>() : 0.0);
  return combination.lpNorm<Eigen::Infinity>() / size <= 1e-9 * scale;
}

/// Active-set polishing (as OSQP polishes): with the rows whose multiplier exceeds their slack
/// taken as active, the equality-constrained QP on them is solved directly; the result replaces
/// `out` if its KKT residuals are within `tol`. Used when the iteration stalls: near the
/// solution the ratios lambda/s span ~30 orders of magnitude and the reduced Newton matrix can
/// no longer resolve the stationarity residual, though the active set is already evident. And
/// after a solve that met the tolerance, for the backward passes: the interior point stops with
/// binding rows at slacks of order complementarity / lambda and inactive rows at multipliers of
/// order complementarity / slack, and every oracle's gradient carries those residuals (minibatch
/// gradients of sudoku_lp and dfl_qp were off by up to 4e-3 with kkt, and by up to 9 with a
/// slack-only active set); the polished solution has them at round-off. There it must also be
/// strictly complementary, every active multiplier and every inactive slack above `strictness`:
/// a weakly active row would get a multiplier and a slack that are both round-off, of either
/// sign, and kkt's matrix, which holds them, becomes singular (NaN gradients on degenerate
/// layers); the interior point's own iterate keeps both positive.
/// The equality QP is solved by the active-set factor (Cholesky of Q, Schur complement on the
/// active rows; with BoundStructure the bounds eliminated), which the accepted solution keeps for
/// ffoqp's backward on the same rows. A Q that is only semidefinite has no Cholesky factor, and its
/// solution stays unpolished.
bool polish(const DenseQp& qp, const Products& ops, const BoundStructure* bounds, const Vector& s,
            const Vector& z, double tol, double strictness, QpSolution& out) {
  std::vector<Eigen::Index> active;
  for (Eigen::Index i = 0; i < s.size(); ++i)
    if (z[i] > s[i])
      active.push_back(i);
  const Eigen::Index k = static_cast<Eigen::Index>(active.size()), p = qp.A.rows();
  auto factor = std::make_shared<const ActiveSetFactor>(ActiveSetFactor::of_qp(qp, active, bounds));
  if (!factor->ok())
    return false;
  Vector rhs(k + p); // the active rows hold with equality: G_I y = h_I, A y = b
  for (Eigen::Index r = 0; r < k; ++r)
    rhs[r] = qp.h[active[static_cast<std::size_t>(r)]];
  rhs.tail(p) = qp.b;
  QpSolution candidate = out;
  Vector multipliers;
  factor->solve(-qp.q, rhs, candidate.y, multipliers);
  const auto scatter = [&](const Vector& from) {
    candidate.lambda = Vector::Zero(qp.G.rows());
    for (Eigen::Index r = 0; r < k; ++r)
      candidate.lambda[active[static_cast<std::size_t>(r)]] = from[r];
    candidate.nu = from.tail(p);
  };
  scatter(multipliers);
  // Two refinements against the unreduced system: the Schur complement squares the conditioning
  // of the active rows, and without them polished solutions missed the tolerance on sudoku_lp
  // minibatches that an LU of the whole matrix met (worst minibatch gradient error of
  // QpLayerAccuracy 5.5e-7 with the LU, 1.3e-5 unrefined, 1.1e-7 refined).
  for (int refinement = 0; refinement < 2; ++refinement) {
    Vector r_stationarity = -qp.q - ops.Q(candidate.y);
    ops.add_Gt(r_stationarity, candidate.lambda, -1.0);
    Vector r_rows = rhs;
    for (Eigen::Index r = 0; r < k; ++r)
      r_rows[r] -= ops.G_row(active[static_cast<std::size_t>(r)], candidate.y);
    if (p > 0) {
      r_stationarity.noalias() -= qp.A.transpose() * candidate.nu;
      r_rows.tail(p).noalias() -= qp.A * candidate.y;
    }
    Vector dy, dm;
    factor->solve(r_stationarity, r_rows, dy, dm);
    candidate.y += dy;
    multipliers += dm;
    scatter(multipliers);
  }
  if (!candidate.y.allFinite() || !multipliers.allFinite())
    return false;
  const Vector slack = qp.h - ops.G(candidate.y);
  for (Eigen::Index i = 0; i < slack.size(); ++i)
    if (!(std::max(candidate.lambda[i], slack[i]) > strictness))
      return false;
  if (kkt_residuals(qp, candidate).max() > tol)
    return false;
  candidate.status = QpStatus::kSolved;
  candidate.active_factor = std::move(factor);
  out = candidate;
  return true;
}

/// The reduction to the multipliers, if `config` forces it or it costs fewer flops, and Q is
/// positive definite; nullopt where every Newton matrix is reduced to y (also with BoundStructure,
/// whose reduction to y is diagonal, and without inequalities).
std::optional<MultiplierNewton> multiplier_reduction(const InteriorPointQp::Config& config,
                                                     const DenseQp& qp,
                                                     const BoundStructure* bounds,
                                                     const Vector* q_diagonal) {
  using Reduction = InteriorPointQp::Config::Reduction;
  const Eigen::Index m = qp.G.rows();
  const bool wanted = config.reduction == Reduction::kToMultipliers ||
                      (config.reduction == Reduction::kCheaper &&
                       MultiplierNewton::cheaper(qp.n(), m, qp.A.rows(), q_diagonal != nullptr));
  if (bounds || m == 0 || !wanted)
    return std::nullopt;
  return MultiplierNewton::of(qp, q_diagonal);
}

} // namespace

bool InteriorPointQp::reduces_to_multipliers(const DenseQp& qp) const {
  if (!qp.quadratic.empty())
    return false;
  const std::optional<BoundStructure> bounds =
      config_.exploit_structure ? BoundStructure::of(qp) : std::nullopt;
  const std::optional<Vector> q_diagonal = diagonal_of(qp.Q);
  return multiplier_reduction(config_, qp, bounds ? &*bounds : nullptr,
                              q_diagonal ? &*q_diagonal : nullptr)
      .has_value();
}

InteriorPointQp::Config InteriorPointQp::Config::from_options(const std::string& prefix) {
  Config c;
  c.tolerance = options::get_positive("-" + prefix + "qp_tol", c.tolerance,
                                      "interior-point tolerance on the QP's KKT residuals");
  c.max_iterations = static_cast<int>(options::get_int(
      "-" + prefix + "qp_max_it", c.max_iterations, 1, 100000, "interior-point iteration limit"));
  const std::string reduction = options::get_choice(
      "-" + prefix + "qp_reduction", "auto", {"auto", "y", "multipliers"},
      "interior point's Newton systems reduced to y (Q + G'WG, n x n) or to the multipliers "
      "(G Q^-1 G' + W^-1, (m+p) x (m+p); needs Q positive definite, else y); auto: fewer flops");
  c.reduction = reduction == "y"             ? Config::Reduction::kToY
                : reduction == "multipliers" ? Config::Reduction::kToMultipliers
                                             : Config::Reduction::kCheaper;
  return c;
}

QpSolution InteriorPointQp::solve(const DenseQp& qp) const {
  if (!qp.quadratic.empty())
    return InteriorPointQcqp(config_).solve(qp);
  qp.validate();
  const Eigen::Index m = qp.G.rows();
  const double scale =
      1.0 + std::max({qp.q.lpNorm<Eigen::Infinity>(), m ? qp.h.lpNorm<Eigen::Infinity>() : 0.0,
                      qp.A.rows() ? qp.b.lpNorm<Eigen::Infinity>() : 0.0});
  const double tol = config_.tolerance * scale;
  // Detected once: with it every Newton matrix is diagonal plus the equality rows.
  const std::optional<BoundStructure> bounds =
      config_.exploit_structure ? BoundStructure::of(qp) : std::nullopt;
  const BoundStructure* bounds_ptr = bounds ? &*bounds : nullptr;
  const Products ops(qp, bounds_ptr);
  const std::optional<MultiplierNewton> multipliers =
      multiplier_reduction(config_, qp, bounds_ptr, ops.Q_diagonal());
  const MultiplierNewton* multipliers_ptr = multipliers ? &*multipliers : nullptr;
  Matrix scaled, storage; // reduced_newton's workspaces

  // Start (CVXOPT): minimise 1/2 y'Qy + q'y + 1/2 ||G y - h||^2 subject to A y = b, i.e. the
  // Newton system with W = I, then shift the slacks and multipliers into the positive orthant.
  QpSolution out;
  Vector s, z;
  {
    NewtonFactor K = reduced_newton(qp, bounds_ptr, multipliers_ptr, ops.Q_diagonal(),
                                    Vector::Ones(m), scaled, storage);
    if (multipliers_ptr) {
      // Q y + G'z + A'nu = -q, G y - z = h, A y = b: the same y and nu.
      const Vector f = -qp.q;
      Vector z_unused, c_unused;
      multipliers_ptr->solve_multipliers(K.M(), multipliers_ptr->reduce(f), qp.h, qp.b, z_unused,
                                         out.nu);
      multipliers_ptr->solve_y(f, z_unused, out.nu, out.y, c_unused);
    } else {
      Vector rhs = -qp.q;
      if (m > 0)
        rhs += ops.Gt(qp.h);
      K.to_y().solve(rhs, qp.b, out.y, out.nu);
    }
    if (!K.ok() || !out.y.allFinite() || !out.nu.allFinite()) {
      out.y = Vector::Zero(qp.n());
      out.nu = Vector::Zero(qp.A.rows());
      out.lambda = Vector::Zero(m);
      out.status = QpStatus::kNumericalError;
      return out;
    }
    if (m > 0) {
      s = qp.h - ops.G(out.y);
      z = -s;
      const double shift_s = -s.minCoeff(), shift_z = -z.minCoeff();
      if (shift_s >= 0)
        s.array() += 1.0 + shift_s;
      if (shift_z >= 0)
        z.array() += 1.0 + shift_z;
    }
    storage = std::move(K).release_storage();
  }
  out.status = QpStatus::kMaxIterations;
  double best_residual = std::numeric_limits<double>::infinity();
  QpSolution best;
  Vector best_s, best_z;
  int since_best = 0;
  for (int it = 0; it < config_.max_iterations; ++it) {
    out.iterations = it;
    Vector r_d = ops.Q(out.y) + qp.q;
    Vector r_pi, r_pe;
    if (m > 0) {
      ops.add_Gt(r_d, z, 1.0);
      r_pi = ops.G(out.y) + s - qp.h;
    }
    if (qp.A.rows() > 0) {
      r_d.noalias() += qp.A.transpose() * out.nu;
      r_pe = qp.A * out.y - qp.b;
    } else {
      r_pe.resize(0);
    }
    const double mu = m > 0 ? s.dot(z) / static_cast<double>(m) : 0.0;
    const double residual =
        std::max({r_d.lpNorm<Eigen::Infinity>(), m ? r_pi.lpNorm<Eigen::Infinity>() : 0.0,
                  qp.A.rows() ? r_pe.lpNorm<Eigen::Infinity>() : 0.0,
                  m ? s.cwiseProduct(z).maxCoeff() : 0.0});
    if (residual <= tol) {
      out.status = QpStatus::kSolved;
      break;
    }
    // Stalled near the solution: no new best residual for three iterations (see polish). Far
    // from it (an infeasible problem) the iteration goes on towards a Farkas certificate.
    if (residual < best_residual) {
      best_residual = residual;
      best = out;
      best_s = s;
      best_z = z;
      since_best = 0;
    } else if (++since_best >= 3 && best_residual <= 1e4 * tol) {
      break;
    }
    if (farkas_certificate(qp, ops, z, out.nu)) {
      out.status = QpStatus::kInfeasible;
      break;
    }
    NewtonFactor K = reduced_newton(qp, bounds_ptr, multipliers_ptr, ops.Q_diagonal(),
                                    m > 0 ? Vector(z.cwiseQuotient(s)) : Vector(), scaled, storage);
    // Predictor (affine scaling, target complementarity 0), then Mehrotra's corrector with
    // centring sigma = (mu_affine / mu)^3 and the second-order term ds_aff .* dz_aff. The
    // predictor only sets sigma and that term, and is not refined: the step taken is the
    // corrector's, refined as before. On the fig3 layers at n = 1000 the predictor's refinements
    // were a fifth of the solves' time (1.1 ms per iteration at load 3), and the iterations and
    // polished solutions are the same without them. Without inequalities the predictor is the
    // step. Reduced to the multipliers, the two steps share C Q^{-1} r_d and the predictor forms
    // no dy: two passes over G fewer per iteration.
    std::optional<Vector> reduced_d;
    if (multipliers_ptr)
      reduced_d = multipliers_ptr->reduce(-r_d);
    const Shared shared{reduced_d ? &*reduced_d : nullptr, true};
    Step step = m > 0 ? newton_step(qp, ops, K, s, z, r_d, r_pi, r_pe, s.cwiseProduct(z),
                                    {shared.reduced_d, false})
                      : refined_step(qp, ops, K, s, z, r_d, r_pi, r_pe, s, 1e-3 * tol, shared);
    if (m > 0 && finite(step)) {
      const double alpha = std::min(step_to_boundary(s, step.ds), step_to_boundary(z, step.dz));
      const double mu_aff = (s + alpha * step.ds).dot(z + alpha * step.dz) / static_cast<double>(m);
      const double sigma = std::pow(std::clamp(mu_aff / mu, 0.0, 1.0), 3);
      const Vector r_c =
          s.cwiseProduct(z) + step.ds.cwiseProduct(step.dz) - Vector::Constant(m, sigma * mu);
      step = refined_step(qp, ops, K, s, z, r_d, r_pi, r_pe, r_c, 1e-3 * tol, shared);
    }
    if (!K.ok() || !finite(step)) {
      out.status = QpStatus::kNumericalError;
      break;
    }
    double alpha = 1.0;
    if (m > 0)
      alpha = std::min(1.0,
                       0.99 * std::min(step_to_boundary(s, step.ds), step_to_boundary(z, step.dz)));
    out.y += alpha * step.dy;
    if (qp.A.rows() > 0)
      out.nu += alpha * step.dnu;
    if (m > 0) {
      s += alpha * step.ds;
      z += alpha * step.dz;
    }
    storage = std::move(K).release_storage();
    out.iterations = it + 1;
  }
  out.lambda = z;
  if (out.status == QpStatus::kSolved && m > 0) {
    polish(qp, ops, bounds_ptr, s, z, kkt_residuals(qp, out).max(), tol, out);
    return out;
  }
  if (out.status == QpStatus::kMaxIterations && m > 0 && best_residual < 1e300) {
    // Return the best iterate, polished if its active set gives a solution.
    best.lambda = best_z;
    best.status = QpStatus::kMaxIterations;
    best.iterations = out.iterations;
    out = best;
    polish(qp, ops, bounds_ptr, best_s, best_z, tol, -std::numeric_limits<double>::infinity(), out);
  }
  return out;
}

std::vector<QpSolution> InteriorPointQp::solve_batch(const std::vector<DenseQp>& batch) const {
  std::vector<QpSolution> out;
  out.reserve(batch.size());
  for (const DenseQp& qp : batch)
    out.push_back(solve(qp));
  return out;
}

} // namespace bilevel
