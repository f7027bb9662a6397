// The distributed influence pass on the whole Fashion-MNIST training set (60,000 images) for the
// built-in fashion CNN's last layer, on 1, 2, … MPI ranks:
//
//   mpirun -np 1 build/benchmarks/bench_influence_mpi
//   mpirun -np 2 --allow-run-as-root --oversubscribe build/benchmarks/bench_influence_mpi
//   mpirun --hostfile hosts -np 8 build/benchmarks/bench_influence_mpi      (across machines)
//
// Each rank takes its shard of the training set (xai::shard_of, batches of 256), runs the CNN
// forward to the global-average-pooled features of its images (BM_features: the dominant cost),
// then the passes of Influence on the last layer (multinomial logistic regression on the 128
// features, 1,290 parameters = the network's {fc.weight, fc.bias}, λ = the network's 1e-4) with
// the shipped weights: the stationarity pass (per-example gradients, BM_gradient_pass), one
// conjugate-gradient s_test of 20 iterations (20 Hessian-vector products summed across ranks,
// BM_cg_20), and the influence of every training image on one test image (BM_influence_pass).
// Wall time is the slowest rank's (MPI_Barrier before, MPI_Allreduce of the times after);
// counters give images per second per rank. Only rank 0 prints. Google Benchmark runs each once
// (the ranks must make the same collective calls: no adaptive repetition).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/explain/influence/mpi.hpp"
#include "xai/influence.hpp"
#include "xai/models/builtin.hpp"
#include "xai/models/logistic_regression.hpp"

using xai::models::LogisticRegression;

namespace {

constexpr std::size_t batch_size = 256;

struct Setup {
    std::shared_ptr<xai::MpiCommunicator> comm;
    xai::Shard shard;
    std::size_t n = 0;
    xai::Batch features, test_features;
    xai::Labels labels;
    xai::Labels test_labels;
    LogisticRegression head = LogisticRegression::multinomial({128, 1, 1}, 10, 1e-4);
};

Setup& setup() {
    static Setup s;
    return s;
}

/// Runs f on every rank between barriers; the iteration time is the slowest rank's.
template <class F>
void timed(benchmark::State& state, std::size_t images, F&& f) {
    const Setup& s = setup();
    for (auto _ : state) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto start = std::chrono::steady_clock::now();
        f();
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), slowest = 0.0;
        MPI_Allreduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        state.SetIterationTime(slowest);
        state.counters["images_per_s_per_rank"] = static_cast<double>(images) / slowest;
    }
    state.counters["ranks"] = static_cast<double>(s.comm->size());
    state.counters["images_per_rank"] = static_cast<double>(images);
}

/// The pooled features of `images`, N×128×1×1, in batches of 256.
xai::Batch pooled(const xai::models::Sequential& cnn, const xai::Batch& images) {
    return xai::pooled_features(cnn, images, batch_size).features;
}

void BM_features(benchmark::State& state) {
    Setup& s = setup();
    const xai::models::Sequential cnn = xai::models::load_builtin("fashion");
    const xai::LabelledImages train = xai::load_fashion_mnist(xai::FashionMnistSplit::train);
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 1);
    s.n = train.labels.size();
    s.shard = xai::shard_of(s.n, batch_size, s.comm->rank(), s.comm->size());
    const xai::Batch mine = xt::view(train.images, xt::range(s.shard.begin, s.shard.end));
    s.labels.assign(train.labels.begin() + static_cast<std::ptrdiff_t>(s.shard.begin),
                    train.labels.begin() + static_cast<std::ptrdiff_t>(s.shard.end));
    timed(state, s.shard.end - s.shard.begin, [&] { s.features = pooled(cnn, mine); });
    s.test_features = pooled(cnn, test.images);
    s.test_labels = test.labels;
    const auto blocks = cnn.parameter_blocks();
    for (const auto& b : blocks)
        if (b.name == "fc.weight")
            s.head.set_parameters(cnn.parameters().segment(static_cast<Eigen::Index>(b.offset), static_cast<Eigen::Index>(s.head.num_parameters())));
}

xai::InfluenceOptions options() {
    const Setup& s = setup();
    return {.batch_size = batch_size, .threads = 1, .stationarity = xai::StationarityPolicy::warn,
            .distribution = {s.comm, s.shard.begin, s.n}};
}

void BM_gradient_pass(benchmark::State& state) {
    const Setup& s = setup();
    timed(state, s.shard.end - s.shard.begin, [&] {
        const xai::Influence<LogisticRegression> influence(s.head, s.features, s.labels, options());
        benchmark::DoNotOptimize(&influence);
    });
}

void BM_cg_20(benchmark::State& state) {
    const Setup& s = setup();
    const xai::Influence<LogisticRegression> influence(s.head, s.features, s.labels, options(), {.max_iterations = 20});
    timed(state, s.shard.end - s.shard.begin, [&] {
        benchmark::DoNotOptimize(influence.s_test(s.test_features, {s.test_labels[0]}).values.data());
    });
}

void BM_influence_pass(benchmark::State& state) {
    const Setup& s = setup();
    const xai::Influence<LogisticRegression> influence(s.head, s.features, s.labels, options(), {.max_iterations = 20});
    const Eigen::MatrixXd s_test = influence.s_test(s.test_features, {s.test_labels[0]}).values;
    timed(state, s.shard.end - s.shard.begin, [&] { benchmark::DoNotOptimize(influence.influence_of(s_test).data()); });
}

/// Reports nothing: ranks other than 0 run the same benchmarks silently.
class Silent : public benchmark::BenchmarkReporter {
public:
    bool ReportContext(const Context&) override { return true; }
    void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace

BENCHMARK(BM_features)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_gradient_pass)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_cg_20)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_influence_pass)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    setup().comm = std::make_shared<xai::MpiCommunicator>(MPI_COMM_WORLD);
    benchmark::Initialize(&argc, argv);
    if (setup().comm->rank() == 0) {
        benchmark::RunSpecifiedBenchmarks();
    } else {
        Silent silent;
        benchmark::RunSpecifiedBenchmarks(&silent);
    }
    benchmark::Shutdown();
    MPI_Finalize();
    return 0;
}
