#pragma once
// The update of a learned model's parameters (replicated on every rank, so every rank applies
// the same update to the same allreduced gradient): SGD or Adam (Kingma & Ba, with bias
// correction), after clipping the gradient's norm, as FFOLayer trains its predictors.
#include <Eigen/Dense>

#include <hdf5.h>
#include <mpi.h>

#include <string>

namespace bilevel {

class ModelOptimizer {
public:
  struct Config {
    bool adam = true;
    double learning_rate = 1e-3;
    double clip = 2.0; ///< largest gradient norm; 0 = no clipping
    /// Reads -alg_optimizer, -alg_lr, -alg_clip.
    static Config from_options(double default_learning_rate);
  };
  explicit ModelOptimizer(Config config) : config_(config) {}

  /// Clips `grad` in place and updates x.
  void apply(Eigen::VectorXd& x, Eigen::VectorXd& grad);

  /// The moments and step count, for -restart_from.
  void save_state(MPI_Comm comm, hid_t group) const;
  void load_state(hid_t group);

private:
  Config config_;
  Eigen::VectorXd m_, v_;
  long long steps_ = 0;
};

} // namespace bilevel
