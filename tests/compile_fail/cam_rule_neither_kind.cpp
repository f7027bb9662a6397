// expect: CamRule
// A rule with a name but neither channel_weight(a, g, pixels) nor element(a, g) is neither a
// ChannelWeightRule nor an ElementwiseRule: GradientCam must refuse it at compile time, and
// the error must name the concept it misses.
#include "xai/cam.hpp"
#include "xai/models/sequential.hpp"

#include <string_view>

struct NotARule {
    static constexpr std::string_view name = "NotARule";
    static float weight(const float* a, std::size_t pixels) { return pixels > 0 ? a[0] : 0.0f; }
};

int main() {
    const xai::models::Sequential model({1, 4, 4}, {xai::models::conv2d(2, 3, 1, 1), xai::models::relu(),
                                                    xai::models::global_avg_pool(), xai::models::linear(2)},
                                        1);
    const xai::GradientCam<xai::models::Sequential, NotARule> cam(model);
    return static_cast<int>(cam.explain(xai::Batch(xt::zeros<float>({1, 1, 4, 4}))).size());
}
