// Tests of TracIn (explain/influence/tracin.hpp), the Arnoldi solver (arnoldi.hpp) and the
// training checkpoints they use (models/training.hpp): hand-computed TracInCP from per-example
// gradients, Arnoldi against the dense eigendecomposition, checkpoints' learning rates against
// the cosine schedule.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/image/resize.hpp"
#include "xai/influence.hpp"
#include "xai/models/logistic_regression.hpp"
#include "xai/models/sequential.hpp"
#include "xai/models/training.hpp"

#include <Eigen/Eigenvalues>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using xai::models::LogisticRegression;

namespace {

struct Data {
    xai::Batch images;
    xai::Labels labels;
};

Data fashion(bool train, std::size_t count, std::size_t offset = 0) {
    static const xai::LabelledImages train_set = xai::load_fashion_mnist(xai::FashionMnistSplit::train, 2000);
    static const xai::LabelledImages test_set = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 200);
    const xai::LabelledImages& d = train ? train_set : test_set;
    std::vector<xai::Image> images;
    Data out;
    for (std::size_t i = 0; i < d.labels.size() && images.size() < count; ++i) {
        const std::size_t y = d.labels[i];
        if (y != 0 && y != 2 && y != 4 && y != 6) continue;
        if (offset > 0 && offset--) continue;
        images.push_back(xai::image_at(d.images, i));
        out.labels.push_back(y / 2);
    }
    out.images = xai::resize(xai::stack(images), 7, 7);
    return out;
}

double relative_error(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

}  // namespace

static_assert(xai::Explainer<xai::TracIn<LogisticRegression>>);
static_assert(xai::Explainer<xai::Influence<LogisticRegression, xai::ArnoldiSolver>>);
static_assert(xai::InverseHessianSolver<xai::ArnoldiSolver, LogisticRegression>);

TEST_CASE("the Jacobi eigensolver agrees with Eigen's", "[arnoldi]") {
    Eigen::MatrixXd a = Eigen::MatrixXd::Random(12, 12);
    a = (a + a.transpose()).eval();
    Eigen::VectorXd values;
    Eigen::MatrixXd vectors;
    xai::detail::symmetric_eigen(a, values, vectors);
    CHECK((vectors * values.asDiagonal() * vectors.transpose() - a).norm() < 1e-12 * a.norm());
    CHECK((vectors.transpose() * vectors - Eigen::MatrixXd::Identity(12, 12)).norm() < 1e-12);
    std::sort(values.data(), values.data() + values.size());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
    CHECK((values - eig.eigenvalues()).norm() < 1e-12 * a.norm());
}

TEST_CASE("Arnoldi keeps the top eigen-subspace of the Hessian", "[arnoldi]") {
    const Data train = fashion(true, 400), test = fashion(false, 3);
    LogisticRegression model = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    const xai::Targets targets{test.labels[0], test.labels[1], test.labels[2]};
    const xai::Influence<LogisticRegression, xai::ExactSolver> exact(model, train.images, train.labels);
    const Eigen::MatrixXd g = exact.test_gradients(test.images, targets);
    const Eigen::MatrixXd h = model.loss_hessian(train.images, train.labels);
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);  // ascending
    SECTION("a space that becomes invariant is reported") {
        // H = (data curvature) + λI has the eigenvalue λ many times over (pixels that are dark in
        // every 7×7 image): the Krylov space of a random start has fewer dimensions than P.
        const xai::ArnoldiSolver many{.iterations = 200, .rank = 200};
        CHECK_THROWS_WITH((xai::Influence<LogisticRegression, xai::ArnoldiSolver>(model, train.images, train.labels, {}, many)),
                          Contains("became invariant") && Contains("lower rank"));
    }
    SECTION("the top 20 of 60 iterations: V Λ⁻¹ Vᵀ with the dense top eigenvectors") {
        const xai::ArnoldiSolver solver{.iterations = 60, .rank = 20, .seed = 3};
        const xai::Influence<LogisticRegression, xai::ArnoldiSolver> arnoldi(model, train.images, train.labels, {}, solver);
        const xai::ArnoldiSolver::State& state = arnoldi.solver_state();
        const Eigen::MatrixXd v = eig.eigenvectors().rightCols(20);
        const Eigen::VectorXd lambda = eig.eigenvalues().tail(20);
        for (Eigen::Index c = 0; c < 20; ++c) CHECK(state.values(c) == Approx(lambda(19 - c)).epsilon(1e-6));
        CHECK(state.converged);
        const Eigen::MatrixXd reference = v * lambda.cwiseInverse().asDiagonal() * v.transpose() * g;
        const xai::InverseHvp s = arnoldi.s_test(test.images, targets);
        CHECK(relative_error(s.values, reference) < 1e-4);
        for (Eigen::Index j = 0; j < 3; ++j)
            CHECK(s.reports[static_cast<std::size_t>(j)].relative_residual ==
                  Approx((g.col(j) - v * v.transpose() * g.col(j)).norm() / g.col(j).norm()).epsilon(1e-4));
        // Self-influence works as with any solver: −gᵀ V Λ⁻¹ Vᵀ g ≤ 0.
        CHECK((arnoldi.self_influence().array() <= 0.0).all());
    }
    SECTION("bad options") {
        using A = xai::Influence<LogisticRegression, xai::ArnoldiSolver>;
        CHECK_THROWS_WITH(A(model, train.images, train.labels, {}, {.rank = 0}), Contains("rank is 0"));
        CHECK_THROWS_WITH(A(model, train.images, train.labels, {}, {.iterations = 10, .rank = 20}),
                          StartsWith("xai::ArnoldiSolver::prepare(): ") && Contains("exceeds"));
    }
}

TEST_CASE("TracIn sums learning-rate-weighted gradient products over the checkpoints", "[tracin]") {
    const Data train = fashion(true, 300), test = fashion(false, 2);
    LogisticRegression model = LogisticRegression::multinomial({1, 7, 7}, 4, 0.01);
    REQUIRE(model.fit(train.images, train.labels).converged);
    // Three "checkpoints" along the way to the optimum.
    std::vector<xai::TracInCheckpoint> checkpoints;
    const std::vector<double> rates{0.1, 0.05, 0.01};
    for (std::size_t k = 0; k < 3; ++k)
        checkpoints.push_back({model.parameters() * (0.5 + 0.25 * static_cast<double>(k)), rates[k]});
    const xai::TracIn<LogisticRegression> tracin(model, train.images, train.labels, checkpoints, {.batch_size = 37, .threads = 1, .top_k = 4});
    const xai::TracIn<LogisticRegression> threaded(model, train.images, train.labels, checkpoints, {.batch_size = 37, .threads = 3});
    const xai::Targets targets{test.labels[0], test.labels[1]};
    const xai::Labels labels{test.labels[0], test.labels[1]};
    const xai::TracInExplanation e = tracin.explain(test.images, targets);
    Eigen::MatrixXd brute = Eigen::MatrixXd::Zero(300, 2);
    Eigen::VectorXd self = Eigen::VectorXd::Zero(300);
    for (std::size_t k = 0; k < 3; ++k) {
        LogisticRegression at = model;
        at.set_parameters(checkpoints[k].parameters);
        const Eigen::MatrixXd g_train = at.per_example_loss_gradients(train.images, train.labels);
        brute -= rates[k] * g_train.transpose() * at.per_example_loss_gradients(test.images, labels);
        self += rates[k] * g_train.colwise().squaredNorm().transpose();
    }
    CHECK(relative_error(e.influence, brute) < 1e-12);
    CHECK((threaded.explain(test.images, targets).influence.array() == e.influence.array()).all());
    CHECK(relative_error(tracin.self_influence(), self) < 1e-12);
    CHECK(e.helpful[0].size() == 4);
    CHECK(e.influence(static_cast<Eigen::Index>(e.helpful[0][0]), 0) == e.influence.col(0).minCoeff());
    CHECK(e.scores[0] == xai::log_softmax(model.forward(test.images))(0, test.labels[0]));
    // The image form is the batch form on a batch of one.
    const xai::TracInExplanation one = tracin.explain(xai::image_at(test.images, 1), test.labels[1]);
    CHECK(relative_error(one.influence, e.influence.col(1)) < 1e-14);
    // The parameter subset: the weight block only.
    const xai::TracIn<LogisticRegression> weights(model, train.images, train.labels, checkpoints, {.parameter_blocks = {"weight"}});
    Eigen::MatrixXd brute_weights = Eigen::MatrixXd::Zero(300, 2);
    for (std::size_t k = 0; k < 3; ++k) {
        LogisticRegression at = model;
        at.set_parameters(checkpoints[k].parameters);
        brute_weights -= rates[k] * at.per_example_loss_gradients(train.images, train.labels).topRows(196).transpose() *
                         at.per_example_loss_gradients(test.images, labels).topRows(196);
    }
    CHECK(relative_error(weights.explain(test.images, targets).influence, brute_weights) < 1e-12);
    // Bad input.
    CHECK_THROWS_WITH(xai::TracIn<LogisticRegression>(model, train.images, train.labels, {}), Contains("checkpoints is empty"));
    CHECK_THROWS_WITH(xai::TracIn<LogisticRegression>(model, train.images, train.labels, {{Eigen::VectorXd::Zero(3), 0.1}}),
                      StartsWith("xai::TracIn::TracIn(): ") && Contains("checkpoint 0 has 3 parameters"));
    CHECK_THROWS_WITH(xai::TracIn<LogisticRegression>(model, train.images, train.labels, {{model.parameters(), 0.0}}),
                      Contains("learning rate"));
    CHECK_THROWS_WITH(tracin.explain(test.images, {9}), StartsWith("xai::TracIn::explain(): "));
}

TEST_CASE("training writes checkpoints with the mean learning rate since the previous one", "[tracin][training]") {
    using namespace xai::models;
    const Data data = fashion(true, 60);
    BasicSequential<double> model({1, 7, 7}, {conv2d(4, 3, 1, 1), relu(), global_avg_pool(), linear(4)}, 1);
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "xai_test_checkpoints";
    std::filesystem::remove_all(dir);
    TrainingOptions options{.learning_rate = 0.01, .epochs = 5, .batch_size = 20, .checkpoint_directory = dir, .checkpoint_every = 2};
    xai::models::train(model, data.images, data.labels, options);
    const std::vector<CheckpointRecord> records = read_checkpoints(dir);
    REQUIRE(records.size() == 3);  // after epochs 1, 3 and the last, 4
    CHECK(records[0].epoch == 1);
    CHECK(records[1].epoch == 3);
    CHECK(records[2].epoch == 4);
    // Cosine schedule over 5 × 3 steps: α_t = α ½(1 + cos(π t / 15)); the mean over each span.
    auto mean_rate = [](std::size_t from, std::size_t to) {
        double sum = 0.0;
        for (std::size_t t = from; t < to; ++t) sum += 0.01 * 0.5 * (1.0 + std::cos(3.141592653589793 * static_cast<double>(t) / 15.0));
        return sum / static_cast<double>(to - from);
    };
    CHECK(records[0].learning_rate == Approx(mean_rate(0, 6)).epsilon(1e-12));
    CHECK(records[1].learning_rate == Approx(mean_rate(6, 12)).epsilon(1e-12));
    CHECK(records[2].learning_rate == Approx(mean_rate(12, 15)).epsilon(1e-12));
    // The last checkpoint holds the final weights (saved as float32).
    BasicSequential<double> last = model;
    last.load_parameters(records[2].weights);
    CHECK((last.parameters() - model.parameters()).cwiseAbs().maxCoeff() < 1e-6);
    CHECK_THROWS_AS(read_checkpoints(dir / "missing"), xai::io_error);
    options.checkpoint_every = 0;
    CHECK_THROWS_WITH(xai::models::train(model, data.images, data.labels, options), Contains("checkpoint_every is 0"));
    std::filesystem::remove_all(dir);
}
