// expect: InverseHessianSolver
// The solver is a policy of Influence: a type without State, prepare() and solve() is refused,
// naming the policy's concept.
#include "xai/influence.hpp"
#include "xai/models/logistic_regression.hpp"

struct NotASolver {
    double damping = 0.0;
};

int main() {
    const auto model = xai::models::LogisticRegression::multinomial({1, 2, 2}, 2);
    const xai::Batch images = xt::zeros<float>({2, 1, 2, 2});
    const xai::Labels labels{0, 1};
    const xai::Influence<xai::models::LogisticRegression, NotASolver> influence(model, images, labels);
    return static_cast<int>(influence.explain(xai::Image(xt::zeros<float>({1, 2, 2}))).size());
}
