#pragma once
// OnnxModel: an ONNX classifier run by OpenCV's DNN module (cv::dnn::readNetFromONNX), behind the
// model concepts that need forward passes only (docs/onnx.md):
//
//   Classifier            forward(batch) → N×K logits, in chunks of OnnxOptions::batch_size
//   LayerActivationModel  layer_names(): the file's nodes that OpenCV keeps as layers, by node
//                         name (as Netron shows them; export_onnx names each node after its
//                         output, "conv1", "layer4.1"); layer_activations(batch, layer): the
//                         node's first output (N×C×h×w, or whatever rank the node gives) and
//                         the logits, from one forward pass
//
// That is every black-box method (LIME, RISE, occlusion, the metrics) and the CAMs that need
// activations only (Score-CAM, Eigen-CAM). There are no gradients: OpenCV's DNN module runs
// inference only, so OnnxModel is not a LayerGradientModel, InputGradientModel or
// TwiceDifferentiableModel, and Grad-CAM, Ablation-CAM (forward_from), saliency and influence
// functions on it fail to compile with the concept named in the error.
//
// Not part of the umbrella header: include "xai/onnx.hpp" and link xai::onnx (CMake, defined
// when OpenCV's core and dnn libraries are found; XAI_WITH_ONNX).
//
// Threads. cv::dnn::Net is not safe to call concurrently: forward() writes the net's internal
// blobs (inputs, intermediate outputs, the plan of which layers are fused), so two threads in
// forward() at once corrupt each other's results. OnnxModel keeps ONE Net and a mutex: every
// call locks it, so calls from several threads are safe and serialized. One Net per thread
// would let them overlap, but each Net holds its own copy of every weight and plans its own
// buffers, and OpenCV already parallelizes inside one forward() over its own thread pool
// (cv::setNumThreads), so serialized calls use the cores anyway. Copies of an OnnxModel share
// the Net (and the lock).
//
// Inputs are N×C×H×W float batches, given to OpenCV without a copy (a cv::Mat header over the
// batch's buffer); outputs are copied out. The input shape comes from OnnxOptions, else from
// the file's first graph input (its C, H, W dims must be numbers, not names).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "xai/core/concepts.hpp"
#include "xai/core/error.hpp"
#include "xai/core/tensor.hpp"
#include "xai/models/onnx/protobuf.hpp"

namespace xai::models {

/// How an ONNX file is run: its input shape, class count and batch size.
struct OnnxOptions {
    /// C×H×W the model expects; empty = read from the file's first graph input.
    ImageShape input_shape{};
    /// K; 0 = learned from one forward pass of a zero image at load time.
    std::size_t num_classes = 0;
    /// Images per OpenCV forward pass; larger batches are run in chunks of this size (OpenCV
    /// re-plans its buffers whenever the input shape changes, so a fixed chunk keeps that
    /// cost to the first call and the last, partial chunk).
    std::size_t batch_size = 32;
};

/// An ONNX classifier run by OpenCV's DNN module (see the header comment): Classifier and
/// LayerActivationModel, no gradients. Every const function may be called from several threads
/// (the calls are serialized on one Net); copies share the Net.
class OnnxModel {
public:
    /// Reads an ONNX file. io_error naming the file when it is missing or not a model OpenCV
    /// can read; shape_error when the input shape is neither given nor in the file;
    /// model_error when a forward pass of a zero image fails or does not give N×K scores.
    static OnnxModel load(const std::filesystem::path& file, OnnxOptions options = {}) {
        constexpr const char* where = "xai::models::OnnxModel::load()";
        const std::string bytes = onnx::read_file_bytes(file, where, "an ONNX model file");
        const std::optional<onnx::OnnxInput> declared = onnx::onnx_first_input(bytes);
        if (!declared)
            throw io_error(xai::detail::message(where, ": '", file.string(),
                                                "' is not an ONNX model with a graph input (a ModelProto in protobuf format)"));
        auto state = std::make_shared<State>();
        State& s = *state;
        try {
            s.net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
        } catch (const cv::Exception& e) {
            throw io_error(xai::detail::message(where, ": OpenCV cannot read '", file.string(), "': ", e.what()));
        }
        if (s.net.empty()) throw io_error(xai::detail::message(where, ": OpenCV read no layers from '", file.string(), "'"));
        s.net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        s.net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        s.options = options;
        if (s.options.input_shape == ImageShape{}) {
            const auto& d = declared->dims;
            const bool known = d.size() == 4 && d[1] > 0 && d[2] > 0 && d[3] > 0;
            if (!known) {
                std::string dims;
                for (std::size_t i = 0; i < d.size(); ++i) dims += (i ? ", " : "") + (d[i] < 0 ? std::string("?") : std::to_string(d[i]));
                throw shape_error(xai::detail::message(where, ": '", file.string(), "' declares input '", declared->name,
                                                       "' of shape [", dims, "], expected [N, C, H, W] with numbers for "
                                                       "C, H and W; set OnnxOptions::input_shape"));
            }
            s.options.input_shape = {static_cast<std::size_t>(d[1]), static_cast<std::size_t>(d[2]),
                                     static_cast<std::size_t>(d[3])};
        }
        xai::detail::require<shape_error>(s.options.input_shape.size() > 0, where, ": options.input_shape is ",
                                          to_string(s.options.input_shape), ", expected positive channels, height and width");
        xai::detail::require(s.options.batch_size > 0, where, ": options.batch_size is 0, expected at least 1");
        s.file = file.string();
        // OpenCV names a layer "onnx_node!<node name>" (or, for an unnamed node,
        // "onnx_node_output_0!<its first output>"); OpenCV 4.5 and older used the bare name.
        // layer_names() gives the ONNX node names as the file (and Netron) shows them.
        const std::vector<std::string> cv_names = s.net.getLayerNames();
        auto has = [&](const std::string& n) { return std::find(cv_names.begin(), cv_names.end(), n) != cv_names.end(); };
        for (const onnx::OnnxNode& node : onnx::onnx_nodes(bytes)) {
            const std::string name = node.name.empty() ? node.output : node.name;
            for (const std::string& candidate : {"onnx_node!" + node.name, "onnx_node_output_0!" + node.output, name}) {
                if (!name.empty() && has(candidate) &&
                    std::find(s.layers.begin(), s.layers.end(), name) == s.layers.end()) {
                    s.layers.push_back(name);
                    s.cv_layers.push_back(candidate);
                    break;
                }
            }
        }
        const std::vector<std::string> outputs = s.net.getUnconnectedOutLayersNames();
        if (outputs.size() != 1)
            throw model_error(xai::detail::message(where, ": '", file.string(), "' has ", outputs.size(),
                                                   " outputs, expected one (the logits)"));
        s.output = outputs.front();

        OnnxModel model(std::move(state));
        const ImageShape shape = model.input_shape();
        const Batch zero = xt::zeros<float>({std::size_t{1}, shape.channels, shape.height, shape.width});
        cv::Mat logits;
        {
            std::lock_guard lock(model.state_->mutex);
            logits = model.run(zero, {}, where).front();
        }
        if (logits.dims != 2 || logits.size[0] != 1 || logits.size[1] < 1)
            throw model_error(xai::detail::message(where, ": for a zero batch of shape [1, ", to_string(shape),
                                                   "] the model returned an output of shape ", mat_shape(logits),
                                                   ", expected [1, K] logits"));
        model.state_->classes = static_cast<std::size_t>(logits.size[1]);
        if (s.options.num_classes != 0 && s.options.num_classes != model.state_->classes)
            throw model_error(xai::detail::message(where, ": options.num_classes is ", s.options.num_classes,
                                                   " but the model returns ", model.state_->classes, " logits"));
        return model;
    }

    /// The C×H×W the model expects.
    ImageShape input_shape() const { return state_->options.input_shape; }
    /// K, the number of logits.
    std::size_t num_classes() const { return state_->classes; }
    /// The layers whose output layer_activations() gives: the ONNX nodes that OpenCV keeps as
    /// layers, by node name (their first output's name for unnamed nodes), in file order.
    std::vector<std::string> layer_names() const { return state_->layers; }
    /// The name of the output the logits are read from.
    const std::string& output_name() const { return state_->output; }
    /// The options, with the input shape filled in.
    const OnnxOptions& options() const { return state_->options; }

    /// Logits (N×K), in chunks of options().batch_size.
    Scores forward(const Batch& batch) const {
        constexpr const char* where = "xai::models::OnnxModel::forward()";
        xai::detail::require_model_input(*this, batch, where);
        const std::size_t n = batch.shape(0), k = state_->classes;
        Scores scores = Scores::from_shape({n, k});
        std::lock_guard lock(state_->mutex);
        for_chunks(batch, [&](const Batch& chunk, std::size_t first) {
            const cv::Mat out = run(chunk, {}, where).front();
            copy_rows(out, chunk.shape(0), k, scores.data() + first * k, where);
        });
        xai::detail::require_model_scores(scores, n, k, where);
        return scores;
    }

    /// The output of `layer` and the logits, from one forward pass per chunk.
    LayerOutput layer_activations(const Batch& batch, const std::string& layer) const {
        constexpr const char* where = "xai::models::OnnxModel::layer_activations()";
        xai::detail::require_model_input(*this, batch, where);
        const std::string& cv_layer = require_layer(layer, where);
        const std::size_t n = batch.shape(0), k = state_->classes;
        LayerOutput out;
        out.scores = Scores::from_shape({n, k});
        std::lock_guard lock(state_->mutex);
        for_chunks(batch, [&](const Batch& chunk, std::size_t first) {
            const std::vector<cv::Mat> outs = run(chunk, cv_layer, where);
            copy_rows(outs[0], chunk.shape(0), k, out.scores.data() + first * k, where);
            const cv::Mat& a = outs[1];
            if (a.dims < 2 || a.size[0] != static_cast<int>(chunk.shape(0)))
                throw model_error(xai::detail::message(where, ": layer '", layer, "' gave an output of shape ", mat_shape(a),
                                                       " for ", chunk.shape(0), " images, expected [", chunk.shape(0), ", …]"));
            if (first == 0) {
                std::vector<std::size_t> shape{n};
                for (int d = 1; d < a.dims; ++d) shape.push_back(static_cast<std::size_t>(a.size[d]));
                out.activations = Activations::from_shape(shape);
            }
            const std::size_t per_image = a.total() / chunk.shape(0);
            if (per_image * n != out.activations.size())
                throw model_error(xai::detail::message(where, ": layer '", layer, "' changed shape between chunks"));
            const cv::Mat c = a.isContinuous() ? a : a.clone();
            std::copy_n(c.ptr<float>(), c.total(), out.activations.data() + first * per_image);
        });
        xai::detail::require_model_scores(out.scores, n, k, where);
        return out;
    }

private:
    struct State {
        cv::dnn::Net net;
        OnnxOptions options;
        std::string file, output;
        std::vector<std::string> layers;     ///< the ONNX node names offered as layers
        std::vector<std::string> cv_layers;  ///< OpenCV's name of each of them
        std::size_t classes = 0;
        std::mutex mutex;  ///< cv::dnn::Net::forward is not reentrant (see the header comment)
    };

    explicit OnnxModel(std::shared_ptr<State> state) : state_(std::move(state)) {}

    static std::string mat_shape(const cv::Mat& m) {
        std::string out = "[";
        for (int d = 0; d < m.dims; ++d) out += (d ? ", " : "") + std::to_string(m.size[d]);
        return out + "]";
    }

    /// OpenCV's name of an ONNX node offered as a layer; invalid_argument listing them if none.
    const std::string& require_layer(const std::string& layer, const char* where) const {
        const auto& names = state_->layers;
        if (const auto it = std::find(names.begin(), names.end(), layer); it != names.end())
            return state_->cv_layers[static_cast<std::size_t>(it - names.begin())];
        std::string list;
        for (std::size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
        throw invalid_argument(xai::detail::message(where, ": layer '", layer, "' is not a layer of '", state_->file,
                                                    "', expected one of [", list, "]"));
    }

    template <class Body>
    void for_chunks(const Batch& batch, Body&& body) const {
        const std::size_t n = batch.shape(0), step = state_->options.batch_size, per_image = batch.size() / n;
        if (n <= step) {
            body(batch, 0);
            return;
        }
        for (std::size_t first = 0; first < n; first += step) {
            const std::size_t count = std::min(step, n - first);
            Batch chunk = Batch::from_shape({count, batch.shape(1), batch.shape(2), batch.shape(3)});
            std::copy_n(batch.data() + first * per_image, count * per_image, chunk.data());
            body(chunk, first);
        }
    }

    /// One OpenCV forward pass (the caller holds the lock): the logits, and the layer's output
    /// when `layer` is not empty. The returned Mats are copies, safe after the lock is released.
    std::vector<cv::Mat> run(const Batch& batch, const std::string& layer, const char* where) const {
        const int sizes[4] = {static_cast<int>(batch.shape(0)), static_cast<int>(batch.shape(1)),
                              static_cast<int>(batch.shape(2)), static_cast<int>(batch.shape(3))};
        // A header over the batch's buffer: OpenCV copies it into its own input blob.
        const cv::Mat blob(4, sizes, CV_32F, const_cast<float*>(batch.data()));
        try {
            cv::dnn::Net& net = state_->net;
            net.setInput(blob);
            std::vector<cv::Mat> outs;
            std::vector<std::string> names{state_->output};
            if (!layer.empty()) names.push_back(layer);
            net.forward(outs, names);
            for (cv::Mat& m : outs) m = m.clone();  // the Net reuses its blobs on the next call
            return outs;
        } catch (const cv::Exception& e) {
            throw model_error(xai::detail::message(where, ": OpenCV failed on a batch of shape [", sizes[0], ", ", sizes[1],
                                                   ", ", sizes[2], ", ", sizes[3], "]: ", e.what()));
        }
    }

    static void copy_rows(const cv::Mat& out, std::size_t n, std::size_t k, float* dst, const char* where) {
        if (out.dims != 2 || out.size[0] != static_cast<int>(n) || out.size[1] != static_cast<int>(k) || out.type() != CV_32F)
            throw model_error(xai::detail::message(where, ": the model returned an output of shape ", mat_shape(out),
                                                   ", expected [", n, ", ", k, "] float logits"));
        const cv::Mat c = out.isContinuous() ? out : out.clone();
        std::copy_n(c.ptr<float>(), n * k, dst);
    }

    std::shared_ptr<State> state_;
};

static_assert(Classifier<OnnxModel> && LayerActivationModel<OnnxModel>);
static_assert(!LayerGradientModel<OnnxModel> && !InputGradientModel<OnnxModel>,
              "OnnxModel has no gradients: OpenCV's DNN module runs inference only");

}  // namespace xai::models
