// expect: ChannelWeightRule
// A channel-weight rule without `name` (the explainer's name in error messages) is not a
// ChannelWeightRule: the concept promises everything GradientCam uses, so a rule that lacks
// part of it is refused by the concept, not by an error deep inside the explainer.
#include "xai/cam.hpp"

#include <cstddef>

struct NamelessMaxGradient {
    static float channel_weight(const float* /*a*/, const float* g, std::size_t pixels) {
        float m = g[0];
        for (std::size_t p = 1; p < pixels; ++p) m = g[p] > m ? g[p] : m;
        return m;
    }
};

template <xai::ChannelWeightRule Rule>
float weight_of_first(const float* a, const float* g) {
    return Rule::channel_weight(a, g, 1);
}

int main() {
    const float a = 1.0f, g = 2.0f;
    return static_cast<int>(weight_of_first<NamelessMaxGradient>(&a, &g));
}
