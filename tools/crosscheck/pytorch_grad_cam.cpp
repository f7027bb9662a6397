// pytorch_grad_cam_crosscheck: the C++ side of scripts/crosscheck_pytorch_grad_cam.py, the
// by-hand cross-check of FullGrad, ROAD and Deep Feature Factorization against pytorch-grad-cam
// on the same TorchScript ResNet-18 and the same normalized input (docs/methods/cam.md,
// docs/metrics.md). Built only with LibTorch; never a test.
//
//   pytorch_grad_cam_crosscheck MODEL.pt DIR
//
// Reads DIR/input.f32 (1×3×224×224 float32, the normalized image) and DIR/map.f32 (224×224
// float32, the map ROAD scores), explains the predicted class, and writes into DIR:
//   fullgrad.f32         FullGrad's raw map (224×224)
//   bias_terms.txt       per biased layer: its name and shape; bias_<i>.f32 its ∇_z f ⊙ b (C×h×w)
//   input_term.f32       ∇ₓf ⊙ x (3×224×224)
//   road.txt             ROAD without noise: the MoRF curve, the LeRF curve, the combined score
//   dff_concepts.f32     DFF's k concepts at layer4 (C×k), dff_maps.f32 (k×224×224),
//                        dff_scores.f32 (k×K: the head's softmax on each concept)
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "xai/cam.hpp"
#include "xai/metrics/road.hpp"
#include "xai/torch.hpp"

namespace {

std::vector<float> read_floats(const std::string& path, std::size_t count) {
    std::ifstream in(path, std::ios::binary);
    std::vector<float> values(count);
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(count * sizeof(float)));
    if (!in || in.peek() != std::char_traits<char>::eof())
        throw std::runtime_error(path + ": expected exactly " + std::to_string(count) + " float32 values");
    return values;
}

void write_floats(const std::string& path, const float* values, std::size_t count) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values), static_cast<std::streamsize>(count * sizeof(float)));
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s MODEL.pt DIR (see scripts/crosscheck_pytorch_grad_cam.py)\n", argv[0]);
        return 2;
    }
    using xai::models::TorchModel;
    const std::string dir = argv[2];
    xai::models::TorchOptions options;
    options.input_shape = {3, 224, 224};
    const TorchModel model = TorchModel::load(argv[1], options);
    xai::Batch batch = xai::Batch::from_shape({1, 3, 224, 224});
    const std::vector<float> input = read_floats(dir + "/input.f32", batch.size());
    std::copy(input.begin(), input.end(), batch.begin());

    // FullGrad: the map, and the ingredients pytorch-grad-cam's hooks also see.
    const xai::FullGradResult fg = xai::FullGrad<TorchModel>(model).explain(batch);
    write_floats(dir + "/fullgrad.f32", fg.raw.data(), fg.raw.size());
    const xai::BiasGradients g = model.bias_gradients(batch, [&](const xai::Scores& s) {
        xai::Scores seed = xt::zeros<float>(s.shape());
        seed(0, fg.targets[0]) = 1.0f;
        return seed;
    });
    std::vector<float> term(batch.size());
    for (std::size_t v = 0; v < term.size(); ++v) term[v] = g.input_gradients.data()[v] * batch.data()[v];
    write_floats(dir + "/input_term.f32", term.data(), term.size());
    std::ofstream list(dir + "/bias_terms.txt");
    for (std::size_t l = 0; l < g.layers.size(); ++l) {
        const xai::LayerBiasGradient& layer = g.layers[l];
        const std::size_t c = layer.bias.size(), per = layer.gradients.size() / c;
        term.assign(layer.gradients.size(), 0.0f);
        for (std::size_t ch = 0; ch < c; ++ch)
            for (std::size_t p = 0; p < per; ++p) term[ch * per + p] = layer.gradients.data()[ch * per + p] * layer.bias[ch];
        write_floats(dir + "/bias_" + std::to_string(l) + ".f32", term.data(), term.size());
        list << layer.layer;
        for (std::size_t d = 1; d < layer.gradients.dimension(); ++d) list << ' ' << layer.gradients.shape(d);
        list << '\n';
    }

    // ROAD of the given map, without the imputation's noise (the reference's noise is unseeded).
    xai::Maps maps = xai::Maps::from_shape({1, 224, 224});
    const std::vector<float> map = read_floats(dir + "/map.f32", maps.size());
    std::copy(map.begin(), map.end(), maps.begin());
    const xai::RoadResult road = xai::road(model, batch, maps, {}, {.noise = 0.0});
    std::ofstream r(dir + "/road.txt");
    r.precision(9);
    for (const auto* curve : {&road.morf, &road.lerf}) {
        for (std::size_t f = 0; f < curve->shape(1); ++f) r << (*curve)(0, f) << (f + 1 == curve->shape(1) ? '\n' : ' ');
    }
    r << road.combined[0] << '\n';

    // Deep Feature Factorization at layer4 (pytorch-grad-cam's run_dff_on_image: 5 concepts).
    const xai::DffResult dff = xai::DeepFeatureFactorization<TorchModel>(model, {.layer = "layer4"}).explain(batch);
    write_floats(dir + "/dff_concepts.f32", dff.concepts.data(), dff.concepts.size());
    write_floats(dir + "/dff_maps.f32", dff.concept_maps.data(), dff.concept_maps.size());
    write_floats(dir + "/dff_scores.f32", dff.concept_scores.data(), dff.concept_scores.size());
    std::printf("predicted class %zu; %zu biased layers; NMF iterations %zu; wrote %s\n", fg.targets[0], g.layers.size(),
                dff.nmf_iterations[0], dir.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pytorch_grad_cam_crosscheck: %s\n", e.what());
    return 1;
}
