#pragma once
// Training sets spread over several processes (or machines): what a TrainingLoss needs from a
// message-passing layer, without depending on one. xai/explain/influence/mpi.hpp implements it
// with MPI (link target xai::mpi); nothing else in the library knows MPI.
//
// Each process (rank) holds one contiguous shard of the training set, aligned to the batches of
// the passes (InfluenceOptions::batch_size): rank r holds batches [r·B/R, (r+1)·B/R) of the B
// batches of n examples (shard_of()), so every batch is computed by exactly one rank, on the same
// examples and with the same arithmetic as in one process. Every pass streams the local batches;
// what a pass produces is then combined so that the result is the one process's:
//   per-example outputs (influence rows, self-influence, Newton steps, TracIn rows)  gathered in
//       rank order: bit for bit;
//   sums over batches (Hessian-vector products: CG, LiSSA with whole-set steps, Arnoldi; the
//       stationarity check)  every batch's part gathered and added in batch order, as one process
//       adds them: bit for bit;
//   the dense Hessian of ExactSolver (a P×P part per batch is too much to gather)  summed per rank,
//       then across ranks in rank order: equal to one process up to rounding (~1e-16 relative),
//       and bit for bit for a given number of ranks.
// Sampled minibatches (LissaSolver with batch_size > 0) and per-example look-ups across shards
// (perturbation_influence, NewtonStepInfluence::parameter_changes and group_loss_change) need
// examples another rank holds: refused when distributed.
//
// All ranks must make the same calls in the same order (the combination steps are collective):
// do not call a distributed explainer from several threads at once.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

namespace xai {

/// The collective operations a distributed pass needs, implemented by a message-passing layer
/// (MpiCommunicator in explain/influence/mpi.hpp).
class Communicator {
public:
    virtual ~Communicator() = default;
    /// This process's index, 0 ≤ rank() < size().
    virtual std::size_t rank() const = 0;
    /// The number of processes.
    virtual std::size_t size() const = 0;
    /// Every rank's `local` (any lengths), concatenated in rank order, on every rank.
    virtual std::vector<double> all_gather(const std::vector<double>& local) const = 0;
};

/// Where this process's training examples sit in the whole training set.
struct Distribution {
    /// The message-passing layer; null = one process (the shard is the whole training set).
    std::shared_ptr<const Communicator> communicator = {};
    /// Index of the shard's first example in the whole training set.
    std::size_t first_example = 0;
    /// n, the size of the whole training set.
    std::size_t num_examples = 0;
};

/// A rank's shard: examples [begin, end) of n.
struct Shard {
    std::size_t begin = 0;  ///< first example
    std::size_t end = 0;    ///< one past the last
};

/// The shard of rank `rank` of `size` for n examples in batches of `batch_size`: batches
/// [rank·B/size, (rank+1)·B/size) of the B = ⌈n/batch_size⌉ batches.
inline Shard shard_of(std::size_t n, std::size_t batch_size, std::size_t rank, std::size_t size) {
    const std::size_t batches = batch_size == 0 ? 0 : (n + batch_size - 1) / batch_size;
    const std::size_t b0 = batches * rank / size, b1 = batches * (rank + 1) / size;
    return {std::min(n, b0 * batch_size), std::min(n, b1 * batch_size)};
}

}  // namespace xai
