// expect: TargetFunction
// A target function with a score but no gradient is not a TargetFunction: Target::function()
// refuses it through the concept, not with an error deep inside Grad-CAM's backward pass.
#include "xai/cam.hpp"

#include <span>

struct ScoreOnly {
    double score(std::span<const float> output) const { return output[0]; }
};

int main() {
    const xai::Target t = xai::Target::function(ScoreOnly{});
    return t.is_function() ? 0 : 1;
}
