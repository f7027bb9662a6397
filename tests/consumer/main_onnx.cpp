// Uses xai::onnx as a downstream project would, without calling find_package(OpenCV) itself:
// the built-in CNN exported to ONNX and run back through OpenCV's DNN module.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <xai/models/builtin.hpp>
#include <xai/onnx.hpp>

int main() {
    const xai::models::Sequential net = xai::models::builtin_architecture("fashion", 1);
    const auto file = std::filesystem::temp_directory_path() / "xai_consumer_fashion.onnx";
    xai::models::export_onnx(net, file);
    const xai::models::OnnxModel onnx = xai::models::OnnxModel::load(file);
    const xai::Batch batch = xt::ones<float>({2, 1, 28, 28});
    const xai::Scores a = onnx.forward(batch), b = net.forward(batch);
    std::filesystem::remove(file);
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::abs(a.data()[i] - b.data()[i]) > 1e-4f * (1.0f + std::abs(b.data()[i]))) {
            std::fputs("consumer_onnx: the ONNX logits differ from the built-in model's\n", stderr);
            return 1;
        }
    std::puts("consumer_onnx: OK");
    return 0;
}
