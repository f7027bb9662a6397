// Exports a built-in model (trained weights shipped in data/models) to ONNX, runs the file with
// OpenCV's DNN module through OnnxModel, and compares both runtimes (docs/onnx.md):
//
//   onnx_export [fashion|scenes] [OUT.onnx]
//
// The input is a fixed pattern (x = (1 + sin(0.37 i)) / 2 over the flat index).
#include <cmath>
#include <cstdio>
#include <string>

#include <xtensor/xmath.hpp>

#include "xai/models/builtin.hpp"
#include "xai/onnx.hpp"

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "scenes";
    const std::string file = argc > 2 ? argv[2] : name + ".onnx";
    try {
        const xai::models::Sequential net = xai::models::load_builtin(name);
        xai::models::export_onnx(net, file);
        const xai::models::OnnxModel onnx = xai::models::OnnxModel::load(file);
        std::printf("%s: input %s, %zu classes, output '%s'\nlayers:", file.c_str(), xai::to_string(onnx.input_shape()).c_str(),
                    onnx.num_classes(), onnx.output_name().c_str());
        for (const std::string& layer : onnx.layer_names()) std::printf(" %s", layer.c_str());
        std::printf("\n");

        const xai::ImageShape s = onnx.input_shape();
        xai::Batch x = xai::Batch::from_shape({4, s.channels, s.height, s.width});
        for (std::size_t i = 0; i < x.size(); ++i)
            x.data()[i] = static_cast<float>(0.5 * (1.0 + std::sin(0.37 * static_cast<double>(i))));
        const xai::Scores a = onnx.forward(x), b = net.forward(x);
        std::printf("logits, OpenCV vs built-in: max |difference| %.3g (largest |logit| %.3g)\n",
                    double(xt::amax(xt::abs(a - b))()), double(xt::amax(xt::abs(b))()));
        const std::string layer = net.layer_names()[net.layer_names().size() - 3];
        const xai::Activations p = onnx.layer_activations(x, layer).activations, q = net.layer_activations(x, layer).activations;
        std::printf("layer '%s' (%zux%zux%zux%zu): max |difference| %.3g (largest %.3g)\n", layer.c_str(), p.shape(0),
                    p.shape(1), p.shape(2), p.shape(3), double(xt::amax(xt::abs(p - q))()), double(xt::amax(xt::abs(q))()));
    } catch (const xai::error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
