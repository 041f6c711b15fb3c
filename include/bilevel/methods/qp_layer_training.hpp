#pragma once
// The FFO-layer paper's training loop for problems with a batch of QP layers (QpLayerProblem:
// dfl_qp, sudoku_lp): one outer iteration is one minibatch. Each rank solves the QPs of its
// contiguous block of the batch by the interior-point method (forward), runs the backward pass of
// the oracle -alg_oracle (ffo, ffoqp or kkt) on each and back-propagates through the model; one
// MPI_Allreduce sums the model gradient and the loss; every rank then applies the same
// clipped Adam/SGD update to its copy of the model.
#include "bilevel/methods/algorithm.hpp"
#include "bilevel/qp/interior_point_qp.hpp"
#include "bilevel/qp/qp_layer_oracle.hpp"
#include "bilevel/solvers/model_optimizer.hpp"

#include <memory>

namespace bilevel {

class QpLayerProblem;

class QpLayerTraining final : public Algorithm {
public:
  struct Config {
    InteriorPointQp::Config ipm;
    QpLayerOracleConfig oracle;
    ModelOptimizer::Config optimizer;
    /// -alg_check_oracle: an oracle whose minibatch gradient each step also computes, for the
    /// trace's oracle_error and oracle_cosine (empty: none).
    std::string check_oracle;
    static Config from_options();
  };
  explicit QpLayerTraining(Config config);

  std::string name() const override { return "qp_layer"; }
  void setup(Problem& problem, Vec x0) override;
  void step(Vec x, Record& record) override;
  Vec lower_iterate() const override { return y_; }
  void save_state(hid_t group) const override;
  void load_state(hid_t group) override;

private:
  Config config_;
  InteriorPointQp ipm_;
  std::unique_ptr<QpLayerOracle> oracle_, check_oracle_;
  ModelOptimizer optimizer_;
  QpLayerProblem* problem_ = nullptr;
  OwnedVec y_;
  long long iteration_ = 0;
};

} // namespace bilevel
