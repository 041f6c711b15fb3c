#pragma once
// The update of a learned model's parameters (replicated on every rank, so every rank applies
// the same update to the same allreduced gradient): SGD or Adam (Kingma & Ba, with bias
// correction), after clipping the gradient's norm, as FFOLayer trains its predictors. The
// learning rate may decay in steps: lr * decay^floor(k / decay_every) for the update after k
// earlier ones (PyTorch's StepLR counted in minibatches), so that Adam's constant-size steps,
// noisy on small minibatches, shrink once the model is near a minimum.
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
    double clip = 2.0;  ///< largest gradient norm; 0 = no clipping
    double decay = 1.0; ///< factor applied every `decay_every` updates; 1 = constant
    long long decay_every = 1000;
    /// Reads -alg_optimizer, -alg_lr, -alg_clip, -alg_lr_decay, -alg_lr_decay_every.
    static Config from_options(double default_learning_rate);
  };
  explicit ModelOptimizer(Config config) : config_(config) {}

  /// Clips `grad` in place and updates x.
  void apply(Eigen::VectorXd& x, Eigen::VectorXd& grad);

  /// The learning rate of the update after `updates` earlier ones.
  double learning_rate(long long updates) const;
  /// The learning rate the next apply() uses.
  double learning_rate() const { return learning_rate(steps_); }

  /// The moments and step count, for -restart_from.
  void save_state(MPI_Comm comm, hid_t group) const;
  void load_state(hid_t group);

private:
  Config config_;
  Eigen::VectorXd m_, v_;
  long long steps_ =
      0; ///< updates applied (SGD and Adam), for the schedule and the bias correction
};

} // namespace bilevel
