// The distributed influence pass equals one process: run with `mpirun -np 2` (ctest entry "mpi:
// …", cmake/xaiMpi.cmake). Every rank computes the one-process results on the whole training set
// and the distributed ones on its shard (xai::shard_of), and compares them: bit for bit for
// everything built from per-example outputs and Hessian-vector products (CG, LiSSA with
// whole-set steps, Arnoldi, TracIn, stationarity, top-k lists), to rounding for what uses the
// dense Hessian (ExactSolver, NewtonStepInfluence: summed per rank, then across ranks). Also the
// refusals: sampled LiSSA minibatches and look-ups of examples another rank holds. Exit status
// 1 on any mismatch (every rank reports its own).
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/explain/influence/mpi.hpp"
#include "xai/image/resize.hpp"
#include "xai/influence.hpp"
#include "xai/models/logistic_regression.hpp"

using xai::models::LogisticRegression;

namespace {

int failures = 0, checks = 0;
std::size_t rank_id = 0;

void check(bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
        ++failures;
        std::printf("rank %zu: FAILED: %s\n", rank_id, what.c_str());
    }
}

bool same(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}
double relative(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

template <class F>
bool throws_containing(F&& f, const std::string& text) {
    try {
        f();
    } catch (const std::exception& e) {
        return std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int status = 0;
    try {
        const auto comm = std::make_shared<xai::MpiCommunicator>(MPI_COMM_WORLD);
        rank_id = comm->rank();
        // Multinomial logistic regression, T-shirt/top, Pullover, Coat, Shirt at 7×7, 800 images.
        const xai::LabelledImages data = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 4000);
        std::vector<xai::Image> images;
        xai::Labels labels;
        for (std::size_t i = 0; i < data.labels.size() && images.size() < 800; ++i)
            if (data.labels[i] % 2 == 0 && data.labels[i] <= 6) images.push_back(xai::image_at(data.images, i)), labels.push_back(data.labels[i] / 2);
        const xai::Batch train = xai::resize(xai::stack(images), 7, 7);
        const xai::Batch test = xt::view(train, xt::range(0, 3));  // any images do
        const xai::Targets targets{0, 1, 2};
        LogisticRegression model = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
        model.fit(train, labels);

        const std::size_t n = labels.size(), batch = 64;
        const xai::Shard s = xai::shard_of(n, batch, comm->rank(), comm->size());
        const xai::Batch shard = xt::view(train, xt::range(s.begin, s.end));
        const xai::Labels shard_labels(labels.begin() + static_cast<std::ptrdiff_t>(s.begin), labels.begin() + static_cast<std::ptrdiff_t>(s.end));
        const xai::InfluenceOptions one{.batch_size = batch, .threads = 1, .top_k = 5};
        xai::InfluenceOptions many = one;
        many.distribution = {comm, s.begin, n};

        {  // conjugate gradients: stationarity, influence, top-k, reports
            const xai::Influence<LogisticRegression> a(model, train, labels, one), b(model, shard, shard_labels, many);
            check(a.diagnostics().stationarity.gradient_norm == b.diagnostics().stationarity.gradient_norm, "stationarity bit for bit");
            const xai::InfluenceExplanation ea = a.explain(test, targets), eb = b.explain(test, targets);
            check(same(ea.influence, eb.influence), "CG influence bit for bit");
            check(ea.helpful == eb.helpful && ea.harmful == eb.harmful, "CG top-k lists");
            check(ea.solve_reports[0].iterations == eb.solve_reports[0].iterations, "CG iterations");
        }
        {  // LiSSA with whole-set steps
            const xai::LissaSolver lissa{.recursion_depth = 200, .scale = 20.0};
            const xai::Influence<LogisticRegression, xai::LissaSolver> a(model, train, labels, one, lissa),
                b(model, shard, shard_labels, many, lissa);
            check(same(a.s_test(test, targets).values, b.s_test(test, targets).values), "LiSSA s_test bit for bit");
            const xai::LissaSolver sampled{.recursion_depth = 10, .scale = 20.0, .batch_size = 10};
            check(throws_containing([&] { xai::Influence<LogisticRegression, xai::LissaSolver>(model, shard, shard_labels, many, sampled); },
                                    "batch_size = 0"),
                  "sampled LiSSA refused");
        }
        {  // Arnoldi
            const xai::ArnoldiSolver arnoldi{.iterations = 40, .rank = 10};
            const xai::Influence<LogisticRegression, xai::ArnoldiSolver> a(model, train, labels, one, arnoldi),
                b(model, shard, shard_labels, many, arnoldi);
            check(same(a.influence(test, targets), b.influence(test, targets)), "Arnoldi influence bit for bit");
            check(same(a.self_influence(), b.self_influence()), "Arnoldi self-influence bit for bit");
        }
        {  // the exact solver: the dense Hessian is summed per rank, then across ranks
            const xai::Influence<LogisticRegression, xai::ExactSolver> a(model, train, labels, one), b(model, shard, shard_labels, many);
            check(relative(b.influence(test, targets), a.influence(test, targets)) < 1e-12, "exact influence to rounding");
            check(relative(b.self_influence(), a.self_influence()) < 1e-12, "exact self-influence to rounding");
            if (comm->size() > 1)
                check(throws_containing([&] { (void)b.perturbation_influence(Eigen::VectorXd::Zero(200), {s.begin == 0 ? n - 1 : 0}); },
                                        "not all held by this process"),
                      "a look-up of another rank's example refused");
        }
        {  // Newton steps
            const xai::NewtonStepInfluence<LogisticRegression> a(model, train, labels, {.influence = one}),
                b(model, shard, shard_labels, {.influence = many});
            const xai::NewtonStepExplanation ea = a.explain(test, targets), eb = b.explain(test, targets);
            check(relative(eb.loss_change, ea.loss_change) < 1e-10, "Newton-step leave-one-out to rounding");
            check(relative(eb.leverages, ea.leverages) < 1e-10, "leverages to rounding");
        }
        {  // TracIn
            const std::vector<xai::TracInCheckpoint> checkpoints{{0.5 * model.parameters(), 0.1}, {model.parameters(), 0.01}};
            const xai::TracIn<LogisticRegression> a(model, train, labels, checkpoints, {.batch_size = batch, .threads = 1});
            const xai::TracIn<LogisticRegression> b(model, shard, shard_labels, checkpoints,
                                                    {.batch_size = batch, .threads = 1, .distribution = {comm, s.begin, n}});
            check(same(a.explain(test, targets).influence, b.explain(test, targets).influence), "TracIn bit for bit");
            check(same(a.self_influence(), b.self_influence()), "TracIn self-influence bit for bit");
        }
        {  // shards that do not tile the training set in rank order
            xai::InfluenceOptions wrong = many;
            wrong.distribution.first_example = s.begin + 1;
            check(throws_containing([&] { xai::Influence<LogisticRegression>(model, shard, shard_labels, wrong); }, "shard_of"),
                  "misaligned shards refused");
        }
        std::printf("rank %zu of %zu (examples [%zu, %zu) of %zu): %d of %d checks passed\n", comm->rank(), comm->size(), s.begin,
                    s.end, n, checks - failures, checks);
        status = failures == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::printf("rank %zu: error: %s\n", rank_id, e.what());
        status = 1;
    }
    MPI_Finalize();
    return status;
}
