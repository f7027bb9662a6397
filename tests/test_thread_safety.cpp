// Thread safety of every explainer: explain() is const and documented as safe to call
// concurrently. Here four threads call every explainer (CAM, the Grad-CAM family, Score-CAM,
// Eigen-CAM, Ablation-CAM, LIME, RISE, occlusion, influence) at the same time, on one shared
// model and on shared explainer objects, and every result must equal the one computed alone
// on one thread, bit for bit. The shared explainers also use two internal threads each, so the
// comparison covers the promise that results do not depend on the thread count.
//
// scripts/tsan.sh builds this file with -DXAI_SANITIZE=thread and runs it: ThreadSanitizer
// then reports any data race inside the explainers or the built-in Sequential model. Inputs
// are small (3×16×16, few masks and samples) so that the instrumented run stays fast.
#include "xai/xai.hpp"
#include "xai/models/sequential.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Net = xai::models::Sequential;

/// 3×16×16 → conv1 → relu1 → pool1 → conv2 → relu2 → gap → fc (4 classes), random weights.
Net small_cnn() {
    using namespace xai::models;
    return Net({3, 16, 16}, {conv2d(4, 3, 1, 1), relu(), max_pool2d(2), conv2d(6, 3, 1, 1), relu(), global_avg_pool(), linear(4)},
               17);
}

xai::Batch random_batch(std::size_t n, std::uint64_t seed) {
    xai::Batch batch = xai::Batch::from_shape({n, 3, 16, 16});
    xai::Rng rng(seed);
    for (float& v : batch) v = rng.uniform_float();
    return batch;
}

/// Every number of a result, as raw bytes: equal fingerprints mean bit-identical results.
class Fingerprint {
public:
    template <class Container>
    Fingerprint& add(const Container& values) {
        for (const auto& v : values) add_value(v);
        add_value(static_cast<double>(values.size()));  // the extent, so [a][b] ≠ [a, b][]
        return *this;
    }
    Fingerprint& add_index(std::size_t v) { return add_value(static_cast<double>(v)); }
    bool operator==(const Fingerprint& other) const { return bytes_ == other.bytes_; }
    std::size_t size() const { return bytes_.size(); }

private:
    template <class T>
    Fingerprint& add_value(T v) {
        unsigned char raw[sizeof(T)];
        std::memcpy(raw, &v, sizeof(T));
        bytes_.insert(bytes_.end(), raw, raw + sizeof(T));
        return *this;
    }
    std::vector<unsigned char> bytes_;
};

/// The core every explainer's result shares (xai::Explanation): maps, raw, targets, scores, logits.
Fingerprint core(const xai::Explanation& r) {
    Fingerprint f;
    f.add(r.raw).add(r.maps).add(r.scores).add(r.logits);
    for (std::size_t t : r.targets) f.add_index(t);
    return f;
}

Fingerprint of(const xai::CamResult& r) {
    Fingerprint f = core(r);
    f.add(r.weights);
    return f;
}

Fingerprint of(const xai::LimeExplanation& r) {
    Fingerprint f = core(r);
    for (const auto& surrogates : r.surrogates)
        for (const auto& s : surrogates) {
            f.add_index(s.target).add(s.weights);
            f.add(std::vector<double>{s.intercept, s.r2, s.local_prediction, s.model_prediction});
        }
    return f;
}

Fingerprint of(const xai::RiseExplanation& r) {
    Fingerprint f = core(r);
    f.add(r.standard_error).add(r.masks_used).add(r.relative_standard_error);
    return f;
}

Fingerprint of(const xai::OcclusionExplanation& r) {
    Fingerprint f = core(r);
    f.add_index(r.windows);
    return f;
}

Fingerprint of(const xai::InfluenceExplanation& r) {
    Fingerprint f = core(r);
    f.add(std::vector<double>(r.influence.data(), r.influence.data() + r.influence.size()));
    f.add(r.test_losses);
    for (const auto& helpful : r.helpful) f.add(helpful);
    for (const auto& harmful : r.harmful) f.add(harmful);
    return f;
}

/// One explainer under test: a name and a call that computes its fingerprint.
struct Job {
    std::string name;
    std::function<Fingerprint()> run;
};

/// The CAM options of the test: the feature layer, `threads` internal threads.
xai::CamOptions cam_options(const Net& net, std::size_t threads) {
    xai::CamOptions o;
    o.layer = net.feature_layer();
    o.threads = threads;
    return o;
}

/// Every explainer on `net`, each built with `threads` internal threads. The explainers live in
/// `keep` (they hold pointers to the model and must outlive the jobs).
struct Explainers {
    const Net& net;
    const xai::Batch& images;
    const xai::Batch& train_images;
    const xai::Labels& train_labels;
    std::size_t threads;

    xai::Cam<Net> cam{net, [&] {
                          xai::CamOptions o;
                          o.threads = threads;
                          return o;
                      }()};
    xai::GradCam<Net> grad_cam{net, cam_options(net, threads)};
    xai::GradCamPlusPlus<Net> grad_cam_pp{net, cam_options(net, threads)};
    xai::XGradCam<Net> xgrad_cam{net, cam_options(net, threads)};
    xai::HiResCam<Net> hires_cam{net, cam_options(net, threads)};
    xai::LayerCam<Net> layer_cam{net, layer_options(net, "conv2", threads)};
    xai::ScoreCam<Net> score_cam{net, xai::ScoreCamOptions{.cam = cam_options(net, threads)}};
    xai::EigenCam<Net> eigen_cam{net, cam_options(net, threads)};
    xai::AblationCam<Net> ablation_cam{net, xai::AblationCamOptions{.cam = cam_options(net, threads)}};
    xai::Lime<Net, xai::Slic> lime{net, lime_options(threads), xai::Slic{slic_options()}};
    xai::Rise<Net> rise{net, rise_options(threads)};
    xai::Occlusion<Net> occlusion{net, occlusion_options(threads)};
    xai::Influence<Net> influence{net, train_images, train_labels, influence_options(threads)};

    static xai::CamOptions layer_options(const Net& n, const char* layer, std::size_t t) {
        xai::CamOptions o = cam_options(n, t);
        o.layer = layer;
        return o;
    }
    static xai::LimeOptions lime_options(std::size_t t) {
        xai::LimeOptions o;
        o.num_samples = 40;
        o.batch_size = 16;
        o.top_labels = 2;
        o.threads = t;
        return o;
    }
    static xai::SlicOptions slic_options() {
        xai::SlicOptions o;
        o.n_segments = 8;
        return o;
    }
    static xai::RiseOptions rise_options(std::size_t t) {
        xai::RiseOptions o;
        o.num_masks = 48;
        o.grid_size = 4;
        o.batch_size = 16;
        o.threads = t;
        return o;
    }
    static xai::OcclusionOptions occlusion_options(std::size_t t) {
        xai::OcclusionOptions o;
        o.window = 6;
        o.stride = 4;
        o.batch_size = 8;
        o.threads = t;
        return o;
    }
    static xai::InfluenceOptions influence_options(std::size_t t) {
        xai::InfluenceOptions o;
        o.parameter_blocks = {"fc.weight", "fc.bias"};
        o.stationarity = xai::StationarityPolicy::warn;  // random weights: not a minimum
        o.batch_size = 4;
        o.threads = t;
        return o;
    }

    std::vector<Job> jobs() const {
        const xai::Targets targets{xai::Target::predicted(), 1};
        const xai::Image first = xai::image_at(images, 0);
        return {
            {"CAM", [=, this] { return of(cam.explain(images, targets)); }},
            {"Grad-CAM", [=, this] { return of(grad_cam.explain(images, targets)); }},
            {"Grad-CAM++", [=, this] { return of(grad_cam_pp.explain(images, targets)); }},
            {"XGrad-CAM", [=, this] { return of(xgrad_cam.explain(images, targets)); }},
            {"HiResCAM", [=, this] { return of(hires_cam.explain(images, targets)); }},
            {"LayerCAM", [=, this] { return of(layer_cam.explain(images, targets)); }},
            {"Score-CAM", [=, this] { return of(score_cam.explain(images, targets)); }},
            {"Eigen-CAM", [=, this] { return of(eigen_cam.explain(images, targets)); }},
            {"Ablation-CAM", [=, this] { return of(ablation_cam.explain(images, targets)); }},
            {"LIME", [=, this] { return of(lime.explain(first)); }},
            {"RISE", [=, this] { return of(rise.explain(images, targets)); }},
            {"occlusion", [=, this] { return of(occlusion.explain(images, targets)); }},
            {"influence", [=, this] { return of(influence.explain(first, xai::Target::class_index(2))); }},
        };
    }
};

}  // namespace

TEST_CASE("Every explainer called from 4 threads at once on one shared model equals its single-threaded result",
          "[reliability][threads]") {
    const Net net = small_cnn();
    const xai::Batch images = random_batch(2, 5);
    const xai::Batch train_images = random_batch(8, 6);
    const xai::Labels train_labels{0, 1, 2, 3, 0, 1, 2, 3};

    // The reference: each explainer alone, one internal thread.
    const Explainers alone{net, images, train_images, train_labels, 1};
    const std::vector<Job> reference_jobs = alone.jobs();
    std::vector<Fingerprint> expected;
    for (const Job& job : reference_jobs) expected.push_back(job.run());

    // Shared explainers with two internal threads each; thread t runs every job, starting at job
    // 3t so that different explainers overlap in time.
    const Explainers shared{net, images, train_images, train_labels, 2};
    const std::vector<Job> jobs = shared.jobs();
    constexpr std::size_t thread_count = 4;
    std::vector<std::vector<Fingerprint>> got(thread_count, std::vector<Fingerprint>(jobs.size()));
    std::vector<std::string> failures(thread_count);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < thread_count; ++t)
        threads.emplace_back([&, t] {
            try {
                for (std::size_t k = 0; k < jobs.size(); ++k) {
                    const std::size_t j = (k + 3 * t) % jobs.size();
                    got[t][j] = jobs[j].run();
                }
            } catch (const std::exception& e) {
                failures[t] = e.what();
            }
        });
    for (auto& thread : threads) thread.join();

    for (std::size_t t = 0; t < thread_count; ++t) {
        INFO("thread " << t);
        CHECK(failures[t].empty());
        for (std::size_t j = 0; j < jobs.size(); ++j) {
            INFO(jobs[j].name);
            CHECK(expected[j].size() > 0);
            CHECK(got[t][j] == expected[j]);
        }
    }
}
