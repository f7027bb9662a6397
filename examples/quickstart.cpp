// README's fifteen lines, compiled and run so that the README cannot drift from the API:
// Grad-CAM of the built-in scenes model on a shipped held-out scene, written as an overlay.
//
//   quickstart        (writes gradcam.png into the current directory)
#include <cstdio>

#include <xai/xai.hpp>

int main() {
    const xai::models::Sequential model = xai::models::load_builtin("scenes");  // or your model
    const xai::Image image = xai::load_image(xai::data_directory() / "samples/scenes/scene_0.png", 1);  // C×H×W, [0, 1]

    xai::CamOptions options;
    options.layer = model.feature_layer();                    // any name in model.layer_names()
    const xai::GradCam grad_cam(model, options);
    const xai::CamResult r = grad_cam.explain(xai::as_batch(image));  // the predicted class

    // r.maps: display maps at input size in [0, 1]; r.raw: the signed maps at layer size
    xai::save_image("gradcam.png", xai::overlay(image, xai::Map(xt::view(r.maps, 0))));
    std::printf("class %zu, logit %.3f\n", r.targets[0], r.scores[0]);
}
