// expect: DenseOutputModel
// A classifier without output_shape() is not a DenseOutputModel: evaluate_segmentation (and
// anything else that reads a segmentation output's K×H×W) refuses it through the concept.
#include "xai/core/concepts.hpp"

#include <cstddef>
#include <string>

struct FlatClassifier {
    xai::Scores forward(const xai::Batch& batch) const { return xt::zeros<float>({batch.shape(0), std::size_t{2}}); }
    std::size_t num_classes() const { return 2; }
    xai::ImageShape input_shape() const { return {1, 2, 2}; }
};

template <xai::DenseOutputModel M>
std::size_t axes(const M& model) {
    return model.output_shape().size();
}

int main() { return static_cast<int>(axes(FlatClassifier{})); }
