#pragma once
// MPI for influence over a training set spread across processes and machines (link target
// xai::mpi, built when CMake finds MPI: XAI_WITH_MPI; Debian's libopenmpi-dev). The one header of
// the library that includes <mpi.h>; everything else sees only the Communicator of
// distribution.hpp.
//
//   MPI_Init(&argc, &argv);
//   auto comm = std::make_shared<xai::MpiCommunicator>(MPI_COMM_WORLD);
//   const xai::Shard s = xai::shard_of(n, batch_size, comm->rank(), comm->size());
//   // load training examples [s.begin, s.end) only
//   xai::Influence<Model> influence(model, shard_images, shard_labels,
//       {.batch_size = batch_size, .distribution = {comm, s.begin, n}});
//   auto e = influence.explain(test_images);   // on every rank: the one-process result
//   MPI_Finalize();
//
// Run with `mpirun -np 4 program` on one machine, or `mpirun --hostfile hosts -np 8 program`
// across machines (docs/methods/influence.md). all_gather is MPI_Allgather of the counts then
// MPI_Allgatherv of the doubles: the concatenation in rank order, identical on every rank.

#include <cstddef>
#include <vector>

#include <mpi.h>

#include "xai/core/error.hpp"
#include "xai/explain/influence/distribution.hpp"

namespace xai {

/// Communicator over an MPI communicator (MPI must be initialized and outlive it).
class MpiCommunicator : public Communicator {
public:
    /// Uses `comm` (e.g. MPI_COMM_WORLD); not duplicated, so the caller keeps the ordering of
    /// its own collective calls consistent across ranks.
    explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
        int rank = 0, size = 0;
        check(MPI_Comm_rank(comm_, &rank), "MPI_Comm_rank");
        check(MPI_Comm_size(comm_, &size), "MPI_Comm_size");
        rank_ = static_cast<std::size_t>(rank);
        size_ = static_cast<std::size_t>(size);
    }

    /// This process's rank in the communicator.
    std::size_t rank() const override { return rank_; }
    /// The number of processes in the communicator.
    std::size_t size() const override { return size_; }

    /// Every rank's `local`, concatenated in rank order (MPI_Allgather + MPI_Allgatherv).
    std::vector<double> all_gather(const std::vector<double>& local) const override {
        const int count = static_cast<int>(local.size());
        if (static_cast<std::size_t>(count) != local.size())
            throw invalid_argument(detail::message("xai::MpiCommunicator::all_gather(): ", local.size(),
                                                   " values, expected at most 2^31 - 1 per rank"));
        std::vector<int> counts(size_), offsets(size_);
        check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "MPI_Allgather");
        long long total = 0;
        for (std::size_t r = 0; r < size_; ++r) {
            offsets[r] = static_cast<int>(total);
            total += counts[r];
        }
        if (total > 2147483647LL)
            throw invalid_argument(detail::message("xai::MpiCommunicator::all_gather(): ", total,
                                                   " values in all, expected at most 2^31 - 1"));
        std::vector<double> out(static_cast<std::size_t>(total));
        check(MPI_Allgatherv(local.data(), count, MPI_DOUBLE, out.data(), counts.data(), offsets.data(), MPI_DOUBLE, comm_),
              "MPI_Allgatherv");
        return out;
    }

private:
    static void check(int code, const char* call) {
        if (code != MPI_SUCCESS) throw error(detail::message("xai::MpiCommunicator: ", call, " failed with code ", code));
    }

    MPI_Comm comm_;
    std::size_t rank_ = 0, size_ = 1;
};

}  // namespace xai
