// README's first lines, compiled and run so that the README cannot drift from the API:
// Grad-CAM of the built-in scenes model on a shipped held-out scene, written as an overlay.
//
//   quickstart        (writes gradcam.png into the current directory)
#include <cstdio>
#include <xai/cam.hpp>
#include <xai/image.hpp>
#include <xai/models/builtin.hpp>

int main() {
    const xai::models::Sequential model = xai::models::load_builtin("scenes");  // or your model
    const xai::Image image = xai::load_image(xai::data_directory() / "samples/scenes/scene_0.png", 1);  // C×H×W, [0, 1]

    const xai::GradCam grad_cam(model);                // its feature layer; {.layer = "relu3"} picks another
    const xai::CamResult r = grad_cam.explain(image);  // the predicted class; explain(image, 3) for class 3

    // r.map(): the display map at input size, in [0, 1]; r.raw: the signed map at the layer's size
    xai::save_image("gradcam.png", xai::overlay(image, r.map()));
    std::printf("class %zu, logit %.3f\n", r.targets[0], r.scores[0]);
}
