// The measurements of docs/methods/efficiency.md: how many forward passes each estimator of
// issue 22 needs for the same explanation, on held-out scenes with the built-in scenes CNN and
// (built as efficiency_torch, with LibTorch) on three photos with a ResNet-18 of random weights.
//
//   efficiency --model scenes [--first I] [--count K] [--parts LIST] [--out FILE.csv] [--threads T]
//              [--rise-variants LIST] [--rise-reference NAME] [--rise-reference-masks N]
//   efficiency_torch --model resnet18 [the same options]
//   efficiency --summarize FILE.csv [FILE.csv …]
// efficiency_torch first prints the facts about the random ResNet-18 that the docs quote (the
// predicted class's probability on the photo and on a black image, and how far LibTorch's logits
// move with the batch size); with --count 0 it prints only those.
//
// --parts    comma-separated subset of rise,lime,limeref,occlusion,sobol,scorecam (default: all
//            but limeref)
// --out      the per-image records, one CSV line each, appended as they are made (default
//            efficiency_<model>.csv); --summarize reads such files and prints the tables of the doc
//
// For every image (its predicted class explained):
//   rise       reference: plain RISE with 16,000 masks (seed 1000; --rise-reference NAME and
//              --rise-reference-masks N choose another estimator and budget). Each estimator (plain,
//              antithetic, quasi-random, the control variates, quasi-random with the unmasked
//              score; seed 0; antithetic with the mean score equals antithetic alone at p1 = ½,
//              since a pair's masks add up to 1) runs once up
//              to 4,000 masks (plain: 8,000) and its map is read at every budget of a grid of
//              about √2 steps: mask i is the same whatever the number of masks, so the map after n
//              masks is the map of a run of n masks. (The program checks that claim on image 0,
//              scene 0 or chelsea, when a run includes it: the snapshot at 1,132 masks equals
//              Rise::explain with 1,132 masks, bit for bit on the scenes CNN, within
//              kTorchBatchRounding through LibTorch.)
//              Records: Pearson with the reference at each budget; deletion and insertion AUC
//              (metrics/deletion_insertion.hpp) at 100, 250, 500, 1000, 4000.
//   lime       reference: 10,000 samples (seed 1,000,003). For seeds 0–4: adaptive LIME (ceiling
//              1000, top 5 positive) and plain LIME with 333 and 1000 samples; whether each top-5
//              set equals the reference's, how many of its 5 it shares, and the samples used.
//   limeref    the reference's own reproducibility: two more 10,000-sample references (seeds
//              2,000,003 and 3,000,003), whether each top-5 set equals the first's.
//   occlusion  the full map and coarse-to-fine maps (coarse_levels 2 and 3, thresholds 0.05, 0.1,
//              0.2 and 0.3): windows evaluated, Pearson with the full map, deletion/insertion AUC.
//   sobol      the Sobol attribution method with 4, 16 and 64 designs (g = 8): Pearson with the
//              RISE reference and with its own 64-design map, deletion/insertion AUC.
//   scorecam   full Score-CAM and mass tolerances 0.01, 0.05, 0.1, 0.2: channels scored, Pearson
//              and relative L1 error of the raw map against full Score-CAM.
// Scenes: held-out make_scenes(test, I, K) of the Fashion-MNIST test set (needs Debian's
// dataset-fashion-mnist); LIME on SLIC superpixels (n_segments 40, compactness 0.1, as
// docs/methods/lime.md's scene example) with a black baseline; occlusion window 9, stride 3.
// Photos: data/samples/photos/{chelsea,astronaut,coffee}_224.png through torchvision's
// preprocessing, a ResNet-18 with random weights drawn as torchvision's constructor draws them
// (torch_resnet, seed 0, TorchResNetInit::torchvision; LibTorch's default initialisers give a
// ResNet-18 whose probabilities are ≈ 1/1000 whatever the image); LIME with lime's defaults (quick shift,
// mean-colour hiding); occlusion window 15, stride 8; Score-CAM at layer4; deletion/insertion
// with 56 steps (896 pixels each).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#ifdef XAI_EFFICIENCY_WITH_TORCH
#include "xai/torch.hpp"
#endif
#include "xai/cam.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"
#include "xai/lime.hpp"
#include "xai/metrics/deletion_insertion.hpp"
#include "xai/models/builtin.hpp"
#include "xai/occlusion.hpp"
#include "xai/rise.hpp"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Every name --parts accepts.
const std::vector<std::string> kPartNames = {"rise", "lime", "limeref", "occlusion", "sobol", "scorecam"};

struct Arguments {
    std::string model = "scenes";
    std::size_t first = 0, count = 200, threads = 1;
    std::set<std::string> parts{"rise", "lime", "occlusion", "sobol", "scorecam"};  ///< kPartNames but limeref
    std::set<std::string> rise_variants;  ///< empty: every RISE estimator
    std::string rise_reference = "plain";  ///< the estimator (a kRiseVariants name) of the reference map
    std::size_t rise_reference_masks = 16000;
    std::string out;
    std::vector<std::string> summarize;
};

/// One record: a method's result on one image at one budget.
struct Record {
    std::string model, method;
    std::size_t image = 0;
    double budget = 0.0, pearson = kNaN, deletion = kNaN, insertion = kNaN, extra = kNaN, extra2 = kNaN;
};

std::string format(double v) {
    if (std::isnan(v)) return "";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.6g", v);
    return buffer;
}

class RecordFile {
public:
    explicit RecordFile(std::string path) : path_(std::move(path)) {}
    void write(const Record& r) {
        if (!out_.is_open()) {  // at the first record: --count 0 writes no file
            out_.open(path_, std::ios::app);
            if (!out_) throw std::runtime_error("cannot write --out " + path_);
        }
        out_ << r.model << ',' << r.image << ',' << r.method << ',' << format(r.budget) << ',' << format(r.pearson) << ','
             << format(r.deletion) << ',' << format(r.insertion) << ',' << format(r.extra) << ',' << format(r.extra2)
             << '\n';
        out_.flush();
    }

private:
    std::string path_;
    std::ofstream out_;
};

double pearson(const float* a, const float* b, std::size_t n) {
    double ma = 0.0, mb = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        ma += a[i];
        mb += b[i];
    }
    ma /= static_cast<double>(n);
    mb /= static_cast<double>(n);
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double x = a[i] - ma, y = b[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

double pearson(const xai::Map& a, const xai::Map& b) { return pearson(a.data(), b.data(), a.size()); }

/// How the causal metrics are run for a model: the pixels per step.
/// The class a model predicts for one image, and its probability: what every part explains.
struct Prediction {
    std::size_t target;
    double probability;
};
template <class Model>
Prediction predict(const Model& model, const xai::Image& image) {
    const xai::Scores logits = model.forward(xai::as_batch(image));
    const std::size_t target = xai::argmax_rows(logits).front();
    return {target, xai::scores_of_kind(logits, xai::ScoreKind::probability)(0, target)};
}

struct MetricSetup {
    std::optional<std::size_t> pixels_per_step;
    std::size_t threads = 1;
};

template <class Model>
std::pair<double, double> causal(const Model& model, const xai::Image& image, std::size_t target, const xai::Map& map,
                                 const MetricSetup& setup) {
    const xai::Batch batch = xai::as_batch(image);
    xai::Maps maps = xai::Maps::from_shape({1, map.shape(0), map.shape(1)});
    std::copy(map.begin(), map.end(), maps.begin());
    xai::CausalMetricOptions o;
    o.pixels_per_step = setup.pixels_per_step;
    o.threads = setup.threads;
    const double del = xai::deletion(model, batch, maps, xai::Targets{xai::Target::class_index(target)}, o).auc[0];
    const double ins = xai::insertion(model, batch, maps, xai::Targets{xai::Target::class_index(target)}, o).auc[0];
    return {del, ins};
}

/// The budgets at which RISE maps are read: ~√2 steps from 100, and the metric budgets.
const std::vector<std::size_t> kRiseBudgets = {100, 142, 200, 250, 284, 400, 500, 566, 800, 1000,
                                               1132, 1600, 2264, 3200, 4000, 5656, 8000};
const std::set<std::size_t> kMetricBudgets = {100, 250, 500, 1000, 4000};
/// The budget at which image 0's snapshots are checked against Rise::explain.
constexpr std::size_t kRiseCheckBudget = 1132;
/// How far that check lets the map differ through LibTorch, relative to its largest value: the
/// snapshots' batches are cut at every budget, and LibTorch's CPU convolution on more than one
/// OpenBLAS thread rounds differently for a different batch size (a ResNet-18's logits, up to
/// 7.0, by up to 3.3e-6 between the same images in a batch of 12 and inside a batch of 32:
/// `efficiency_torch --model resnet18 --count 0 --threads 2`; by 0 with --threads 1, which sets
/// OpenBLAS's pool too), where the built-in models give the same floats whatever the batch
/// (checked bit for bit).
constexpr double kTorchBatchRounding = 1e-4;

struct RiseVariant {
    const char* name;
    xai::RiseSampling sampling;
    xai::RiseControlVariate control;
    std::size_t ceiling;
};

const std::vector<RiseVariant> kRiseVariants = {
    {"plain", xai::RiseSampling::independent, xai::RiseControlVariate::none, 8000},
    {"antithetic", xai::RiseSampling::antithetic, xai::RiseControlVariate::none, 4000},
    {"quasi_random", xai::RiseSampling::quasi_random, xai::RiseControlVariate::none, 4000},
    {"unmasked_score", xai::RiseSampling::independent, xai::RiseControlVariate::unmasked_score, 4000},
    {"mean_score", xai::RiseSampling::independent, xai::RiseControlVariate::mean_score, 4000},
    {"quasi_random+unmasked_score", xai::RiseSampling::quasi_random, xai::RiseControlVariate::unmasked_score, 4000},
};

/// The estimator named `name` (a name --rise-variants accepts; parse() has checked it).
const RiseVariant& rise_variant(const std::string& name) {
    return *std::find_if(kRiseVariants.begin(), kRiseVariants.end(), [&](const RiseVariant& v) { return name == v.name; });
}

/// RISE's map after each of `budgets` masks of one run (Rise::run's loop, reading the estimate
/// at every budget instead of only at the end; every budget a multiple of 2).
template <class Model>
std::vector<xai::Map> rise_snapshots(const Model& model, const xai::Image& image, std::size_t target,
                                     const xai::RiseOptions& o, const std::vector<std::size_t>& budgets, double unmasked) {
    const std::size_t channels = image.shape(0), h = image.shape(1), w = image.shape(2), pixels = h * w;
    const xai::RiseMaskGenerator generator(h, w, o.grid_size, o.keep_probability);
    xai::detail::RiseControl control;
    if (o.control_variate == xai::RiseControlVariate::unmasked_score) {
        control.kind = xai::detail::RiseControl::Kind::constant;
        control.constant = {unmasked};
    } else if (o.control_variate == xai::RiseControlVariate::mean_score) {
        control.kind = xai::detail::RiseControl::Kind::leave_one_out;
    }
    const bool antithetic = o.sampling == xai::RiseSampling::antithetic;
    std::optional<xai::detail::SobolSequence> sequence;
    if (o.sampling == xai::RiseSampling::quasi_random) sequence.emplace(generator.uniforms_per_draw(), true, o.seed);
    auto draw = [&](std::size_t index) {
        if (antithetic) return generator.draw_antithetic(o.seed, index / 2, static_cast<unsigned>(index % 2));
        if (sequence) return generator.draw_from([&](std::size_t d) { return sequence->uniform(index, d); });
        return generator.draw(o.seed, index);
    };
    xai::detail::RiseMoments moments(1, pixels, antithetic ? 2 : 1, control.kind != xai::detail::RiseControl::Kind::none);
    const std::size_t classes[1] = {target};
    std::vector<xai::Map> out;
    std::vector<float> masks(o.batch_size * pixels);
    xai::Batch masked;
    std::size_t done = 0;
    for (std::size_t budget : budgets) {
        while (done < budget) {
            const std::size_t count = std::min(o.batch_size, budget - done);
            xai::detail::reshape_batch(masked, count, {channels, h, w});
            xai::parallel_for(count, o.threads, [&](std::size_t i) {
                float* mask = masks.data() + i * pixels;
                generator.render(draw(done + i), mask);
                xai::detail::apply_mask(image.data(), o.baseline.value(), channels, pixels, mask,
                                        masked.data() + i * channels * pixels);
            });
            moments.add(masks.data(), count,
                        xai::detail::forward_class_scores(model, masked, o.score, classes, "efficiency"), o.threads);
            done += count;
        }
        xai::Map map = xai::Map::from_shape({h, w});
        for (std::size_t p = 0; p < pixels; ++p)
            map.data()[p] = static_cast<float>(xai::detail::rise_estimate(moments, 0, p, o.keep_probability, control).mean);
        out.push_back(std::move(map));
    }
    return out;
}

template <class Model>
void run_rise(const Model& model, const std::string& model_name, std::size_t index, const xai::Image& image,
              std::size_t target, double score, std::optional<double> check, const MetricSetup& metrics, const Arguments& args,
              RecordFile& file, xai::Map& reference) {
    xai::RiseOptions base{.batch_size = 32, .threads = args.threads};
    xai::RiseOptions ref = base;
    const RiseVariant& reference_kind = rise_variant(args.rise_reference);
    ref.sampling = reference_kind.sampling;
    ref.control_variate = reference_kind.control;
    ref.num_masks = args.rise_reference_masks;
    ref.seed = 1000;
    reference = xai::Rise<Model>(model, ref).explain(image, xai::Target::class_index(target)).raw_map();
    {
        Record r{model_name, "rise:reference", index, static_cast<double>(ref.num_masks)};
        std::tie(r.deletion, r.insertion) = causal(model, image, target, reference, metrics);
        file.write(r);
    }
    for (const RiseVariant& v : kRiseVariants) {
        if (!args.rise_variants.empty() && !args.rise_variants.count(v.name)) continue;
        xai::RiseOptions o = base;
        o.sampling = v.sampling;
        o.control_variate = v.control;
        std::vector<std::size_t> budgets;
        for (std::size_t b : kRiseBudgets)
            if (b <= v.ceiling) budgets.push_back(b);
        const std::vector<xai::Map> maps = rise_snapshots(model, image, target, o, budgets, score);
        if (check) {
            // At 1,132 masks (35 batches of 32 and a partial one), not the ceiling: on the
            // ResNet-18 a check at the ceiling would cost 28,000 more forwards.
            const std::size_t checked = static_cast<std::size_t>(
                std::find(budgets.begin(), budgets.end(), kRiseCheckBudget) - budgets.begin());
            o.num_masks = kRiseCheckBudget;
            const xai::Map direct = xai::Rise<Model>(model, o).explain(image, xai::Target::class_index(target)).raw_map();
            const double difference = xt::amax(xt::abs(direct - maps.at(checked)))();
            const double scale = xt::amax(xt::abs(direct))();
            if (!(difference <= *check * scale)) {
                std::fprintf(stderr, "rise_snapshots differs from Rise::explain for %s by %g (map maximum %g)\n", v.name,
                             difference, scale);
                std::exit(1);
            }
        }
        // One variant's records are written together, so that a run stopped part-way leaves
        // only whole estimators in the file.
        std::vector<Record> records;
        for (std::size_t k = 0; k < budgets.size(); ++k) {
            Record r{model_name, std::string("rise:") + v.name, index, static_cast<double>(budgets[k])};
            r.pearson = pearson(maps[k], reference);
            if (kMetricBudgets.count(budgets[k])) std::tie(r.deletion, r.insertion) = causal(model, image, target, maps[k], metrics);
            records.push_back(r);
        }
        for (const Record& r : records) file.write(r);
    }
}

/// The superpixels of lime's picture: the 5 largest positive weights of the surrogate for `target`.
std::set<std::size_t> lime_top5(const xai::LimeExplanation& e, std::size_t target) {
    const std::vector<std::size_t> top = xai::detail::lime_top_features(e.surrogate(target), 5, xai::WeightSign::positive);
    return std::set<std::size_t>(top.begin(), top.end());
}

/// LIME with `samples` samples drawn from `seed`, the rest of `base` unchanged.
template <class Model, class Segmenter>
xai::LimeExplanation lime_run(const Model& model, const xai::LimeOptions& base, const Segmenter& segmenter,
                              const xai::Image& image, std::size_t target, std::size_t samples, std::uint64_t seed) {
    xai::LimeOptions options = base;
    options.num_samples = samples;
    options.seed = seed;
    return xai::Lime<Model, Segmenter>(model, options, segmenter).explain(image, xai::Target::class_index(target));
}

/// How many superpixels of `top` are also in `truth`.
double shared_count(const std::set<std::size_t>& top, const std::set<std::size_t>& truth) {
    double k = 0.0;
    for (std::size_t s : top) k += truth.count(s) ? 1.0 : 0.0;
    return k;
}

constexpr std::uint64_t kLimeReferenceSeed = 1000003;

template <class Model, class Segmenter>
void run_lime(const Model& model, const std::string& model_name, std::size_t index, const xai::Image& image,
              std::size_t target, const xai::LimeOptions& base, const Segmenter& segmenter, RecordFile& file) {
    auto top5 = [&](const xai::LimeExplanation& e) { return lime_top5(e, target); };
    const xai::LimeExplanation reference = lime_run(model, base, segmenter, image, target, 10000, kLimeReferenceSeed);
    const std::set<std::size_t> truth = top5(reference);
    // LIME records: budget = samples, extra = 1 when the top-5 set equals the reference's,
    // extra2 = how many of the reference's top 5 it holds, pearson = converged (adaptive only).
    auto shared = [&](const std::set<std::size_t>& top) { return shared_count(top, truth); };
    file.write({model_name, "lime:reference", index, 10000, kNaN, kNaN, kNaN,
                static_cast<double>(reference.segmentations[0].count), static_cast<double>(truth.size())});
    for (std::uint64_t seed = 0; seed < 5; ++seed) {
        xai::LimeOptions adaptive = base;
        adaptive.seed = seed;
        adaptive.num_samples = 1000;
        adaptive.adaptive = {.enabled = true, .top_k = 5};
        const xai::LimeExplanation a = xai::Lime<Model, Segmenter>(model, adaptive, segmenter).explain(image, xai::Target::class_index(target));
        file.write({model_name, "lime:adaptive", index, static_cast<double>(a.samples_used[0]), a.converged[0] ? 1.0 : 0.0,
                    kNaN, kNaN, top5(a) == truth ? 1.0 : 0.0, shared(top5(a))});
        for (std::size_t n : {333, 1000}) {
            const xai::LimeExplanation p = lime_run(model, base, segmenter, image, target, n, seed);
            file.write({model_name, "lime:plain" + std::to_string(n), index, static_cast<double>(n), kNaN, kNaN, kNaN,
                        top5(p) == truth ? 1.0 : 0.0, shared(top5(p))});
        }
    }
}

/// How reproducible the 10,000-sample reference top 5 itself is: two more references (seeds
/// 2,000,003 and 3,000,003) against the one of run_lime. Records: extra = 1 when the top-5 sets
/// are equal, extra2 = how many of the 5 they share. Why: where two references of 10,000 samples
/// disagree, the reference's top 5 is itself a draw, and matching it is partly luck.
template <class Model, class Segmenter>
void run_lime_reference_stability(const Model& model, const std::string& model_name, std::size_t index,
                                  const xai::Image& image, std::size_t target, const xai::LimeOptions& base,
                                  const Segmenter& segmenter, RecordFile& file) {
    const std::set<std::size_t> truth =
        lime_top5(lime_run(model, base, segmenter, image, target, 10000, kLimeReferenceSeed), target);
    for (std::uint64_t seed : {2000003, 3000003}) {
        const std::set<std::size_t> other = lime_top5(lime_run(model, base, segmenter, image, target, 10000, seed), target);
        file.write({model_name, "limeref:seed" + std::to_string(seed), index, 10000, kNaN, kNaN, kNaN,
                    other == truth ? 1.0 : 0.0, shared_count(other, truth)});
    }
}

template <class Model>
void run_occlusion(const Model& model, const std::string& model_name, std::size_t index, const xai::Image& image,
                   std::size_t target, std::size_t window, std::size_t stride, const MetricSetup& metrics,
                   const Arguments& args, RecordFile& file, const xai::Map& rise_reference) {
    xai::OcclusionOptions o{.window = window, .stride = stride, .threads = args.threads};
    const xai::OcclusionExplanation full = xai::Occlusion<Model>(model, o).explain(image, xai::Target::class_index(target));
    const xai::Map full_map = full.raw_map();
    {
        Record r{model_name, "occlusion:full", index, static_cast<double>(full.windows_evaluated[0]), 1.0};
        std::tie(r.deletion, r.insertion) = causal(model, image, target, full_map, metrics);
        if (rise_reference.size() == full_map.size()) r.extra = pearson(full_map, rise_reference);
        file.write(r);
    }
    for (std::size_t levels : {2, 3})
        for (double threshold : {0.05, 0.1, 0.2, 0.3}) {
            o.coarse_levels = levels;
            o.refine_threshold = threshold;
            const xai::OcclusionExplanation c = xai::Occlusion<Model>(model, o).explain(image, xai::Target::class_index(target));
            Record r{model_name, "occlusion:L" + std::to_string(levels) + "_t" + format(threshold), index,
                     static_cast<double>(c.windows_evaluated[0])};
            r.pearson = pearson(c.raw_map(), full_map);
            r.extra = static_cast<double>(full.windows);
            std::tie(r.deletion, r.insertion) = causal(model, image, target, c.raw_map(), metrics);
            file.write(r);
        }
}

template <class Model>
void run_sobol(const Model& model, const std::string& model_name, std::size_t index, const xai::Image& image,
               std::size_t target, const MetricSetup& metrics, const Arguments& args, RecordFile& file,
               const xai::Map& rise_reference) {
    std::vector<std::pair<std::size_t, xai::SobolExplanation>> runs;
    for (std::size_t designs : {4, 16, 64}) {
        const xai::SobolAttribution<Model> sobol(model, {.designs = designs, .batch_size = 64, .threads = args.threads});
        runs.emplace_back(designs, sobol.explain(image, xai::Target::class_index(target)));
    }
    const xai::Map own = runs.back().second.raw_map();
    for (const auto& [designs, e] : runs) {
        Record r{model_name, "sobol", index, static_cast<double>(e.forwards)};
        if (rise_reference.size() == own.size()) r.pearson = pearson(e.raw_map(), rise_reference);
        r.extra = pearson(e.raw_map(), own);
        std::tie(r.deletion, r.insertion) = causal(model, image, target, e.raw_map(), metrics);
        file.write(r);
    }
}

template <class Model>
void run_score_cam(const Model& model, const std::string& model_name, std::size_t index, const xai::Image& image,
                   std::size_t target, const std::string& layer, const Arguments& args, RecordFile& file) {
    xai::ScoreCamOptions o{.cam = {.layer = layer, .threads = args.threads}, .batch_size = 32};
    const xai::ScoreCamResult full = xai::ScoreCam<Model>(model, o).explain(image, xai::Target::class_index(target));
    const xai::Map full_raw = full.raw_map();
    const double full_l1 = xt::sum(xt::abs(full_raw))();
    file.write({model_name, "scorecam:0", index, static_cast<double>(full.channels_scored[0]), 1.0, kNaN, kNaN, 0.0,
                static_cast<double>(full.weights.shape(1))});
    for (double eps : {0.01, 0.05, 0.1, 0.2}) {
        o.mass_tolerance = eps;
        const xai::ScoreCamResult r = xai::ScoreCam<Model>(model, o).explain(image, xai::Target::class_index(target));
        const double l1 = xt::sum(xt::abs(r.raw_map() - full_raw))();
        file.write({model_name, "scorecam:" + format(eps), index, static_cast<double>(r.channels_scored[0]),
                    pearson(r.raw_map(), full_raw), kNaN, kNaN, full_l1 > 0.0 ? l1 / full_l1 : 0.0,
                    static_cast<double>(full.weights.shape(1))});
    }
}

#ifdef XAI_EFFICIENCY_WITH_TORCH
/// The ResNet on images in [0, 1]: torchvision's normalization inside the model, so that the
/// explainers perturb and segment the photo itself (black is RISE's and occlusion's 0, quick shift
/// sees colours in [0, 1]).
struct NormalizedModel {
    xai::models::TorchModel model;
    xai::Preprocessing preprocessing;
    xai::Batch normalized(const xai::Batch& batch) const {
        xai::Batch out = xai::Batch::from_shape(batch.shape());
        const std::size_t size = batch.shape(1) * batch.shape(2) * batch.shape(3);
        for (std::size_t i = 0; i < batch.shape(0); ++i) {
            const xai::Image image = preprocessing.normalize(xai::image_at(batch, i));
            std::copy(image.begin(), image.end(), out.begin() + static_cast<std::ptrdiff_t>(i * size));
        }
        return out;
    }
    xai::Scores forward(const xai::Batch& batch) const { return model.forward(normalized(batch)); }
    std::size_t num_classes() const { return model.num_classes(); }
    xai::ImageShape input_shape() const { return model.input_shape(); }
    std::vector<std::string> layer_names() const { return model.layer_names(); }
    xai::LayerOutput layer_activations(const xai::Batch& batch, const std::string& layer) const {
        return model.layer_activations(normalized(batch), layer);
    }
};

/// The two facts about the random ResNet-18 that docs/torch.md and docs/methods/efficiency.md
/// quote, printed so that they have a command: the predicted class's probability on the photo and
/// on a black image (the score depends on the image), and how far LibTorch's logits move when the
/// same 12 images are forwarded in a batch of 12 instead of inside a batch of 32 (why the
/// first-image check allows kTorchBatchRounding). 45 forwards.
void print_resnet_probe(const NormalizedModel& model, const std::string& photo_name, const xai::Image& photo) {
    const auto [target, photo_probability] = predict(model, photo);
    xai::Image black = xai::Image::from_shape(photo.shape());
    black.fill(0.0f);
    const double black_probability =
        xai::scores_of_kind(model.forward(xai::as_batch(black)), xai::ScoreKind::probability)(0, target);
    // 32 images between black and the photo; the first 12 again as a batch of their own.
    xai::Batch batch32 = xai::Batch::from_shape({32, photo.shape(0), photo.shape(1), photo.shape(2)});
    for (std::size_t i = 0; i < 32; ++i)
        std::transform(photo.begin(), photo.end(), batch32.begin() + static_cast<std::ptrdiff_t>(i * photo.size()),
                       [i](float v) { return v * static_cast<float>(i + 1) / 32.0f; });
    xai::Batch batch12 = xai::Batch::from_shape({12, photo.shape(0), photo.shape(1), photo.shape(2)});
    std::copy(batch32.begin(), batch32.begin() + static_cast<std::ptrdiff_t>(12 * photo.size()), batch12.begin());
    const xai::Scores in32 = model.forward(batch32), in12 = model.forward(batch12);
    double largest_difference = 0.0, largest_logit = 0.0;
    for (std::size_t i = 0; i < 12; ++i)
        for (std::size_t c = 0; c < in12.shape(1); ++c) {
            largest_difference = std::max(largest_difference, static_cast<double>(std::abs(in32(i, c) - in12(i, c))));
            largest_logit = std::max(largest_logit, static_cast<double>(std::abs(in12(i, c))));
        }
    std::printf("resnet18 probe: class %zu has probability %.4f on %s and %.4f on a black image; "
                "logits of the same 12 images in a batch of 12 and inside a batch of 32 differ by up to %.3g "
                "(largest |logit| %.3g)\n",
                target, photo_probability, photo_name.c_str(), black_probability, largest_difference, largest_logit);
    std::fflush(stdout);
}
#endif

/// The model's name in the records. A run whose RISE reference is not plain RISE at 16,000 masks
/// adds the reference to it ("resnet18 [reference quasi_random 8000 masks]"), so that --summarize
/// keeps its Pearson figures apart from those against the default reference.
constexpr std::string_view kReferenceLabel = " [reference ";

std::string model_label(const std::string& model, const Arguments& args) {
    const Arguments defaults;
    if (args.rise_reference == defaults.rise_reference && args.rise_reference_masks == defaults.rise_reference_masks)
        return model;
    return model + std::string(kReferenceLabel) + args.rise_reference + " " + std::to_string(args.rise_reference_masks) +
           " masks]";
}

/// What the Pearson figures of `label` (a model_label) are measured against.
std::string reference_of(const std::string& label) {
    const std::size_t at = label.find(kReferenceLabel);
    if (at == std::string::npos) return "plain RISE at 16,000 masks";
    const std::size_t from = at + kReferenceLabel.size();
    return label.substr(from, label.size() - from - 1);  // without the closing bracket
}

// ---- summaries ---------------------------------------------------------------------------

std::vector<Record> read_records(const std::vector<std::string>& files) {
    std::vector<Record> records;
    for (const std::string& f : files) {
        std::ifstream in(f);
        std::string line;
        while (std::getline(in, line)) {
            std::vector<std::string> cells;
            std::stringstream ss(line);
            std::string cell;
            while (std::getline(ss, cell, ',')) cells.push_back(cell);
            while (cells.size() < 9) cells.emplace_back();
            auto number = [](const std::string& s) { return s.empty() ? kNaN : std::strtod(s.c_str(), nullptr); };
            records.push_back({cells[0], cells[2], static_cast<std::size_t>(std::strtoul(cells[1].c_str(), nullptr, 10)),
                               number(cells[3]), number(cells[4]), number(cells[5]), number(cells[6]), number(cells[7]),
                               number(cells[8])});
        }
    }
    return records;
}

/// The records of the (model, image, part) groups a run finished: a run stopped during an image
/// leaves part of its records, which would skew the per-image tables. A part is finished when its
/// last record is there (RISE: the last estimator at 4,000 masks; LIME: the reference and 5 seeds
/// × 3 runs; occlusion: the full map and 8 settings; Sobol: 3 budgets). Score-CAM's records each
/// compare one tolerance with the full map, written first, so all of them are kept.
std::vector<Record> finished_parts(const std::vector<Record>& records) {
    std::map<std::tuple<std::string, std::size_t, std::string>, std::vector<const Record*>> groups;
    for (const Record& r : records) groups[{r.model, r.image, r.method.substr(0, r.method.find(':'))}].push_back(&r);
    std::vector<Record> out;
    for (const auto& [key, group] : groups) {
        const std::string& part = std::get<2>(key);
        bool finished = true;
        if (part == "rise")  // the reference and at least one whole estimator (--rise-variants)
            finished = group.size() > 1 && std::any_of(group.begin(), group.end(), [](const Record* r) {
                return r->method == "rise:reference";
            });
        else if (part == "lime")
            finished = group.size() == 16;
        else if (part == "occlusion")
            finished = group.size() == 9;
        else if (part == "sobol")
            finished = group.size() == 3;
        else if (part == "limeref")
            finished = group.size() == 2;
        for (const Record* r : group)
            if (finished) out.push_back(*r);
        if (!finished) std::fprintf(stderr, "efficiency: %s image %zu: %s unfinished, left out\n", std::get<0>(key).c_str(),
                                    std::get<1>(key), part.c_str());
    }
    return out;
}

/// The q-quantile (linear interpolation) of finite values; +∞ entries count as largest.
double quantile(std::vector<double> v, double q) {
    if (v.empty()) return kNaN;
    std::sort(v.begin(), v.end());
    const double at = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(at);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    if (std::isinf(v[lo]) || std::isinf(v[hi])) return std::isinf(v[hi]) && at > static_cast<double>(lo) ? v[hi] : v[lo];
    return v[lo] + (at - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::string spread(const std::vector<double>& v) {
    auto f = [](double x) { return std::isinf(x) ? std::string(">max") : format(x); };
    return f(quantile(v, 0.5)) + " [" + f(quantile(v, 0.25)) + ", " + f(quantile(v, 0.75)) + "]";
}

double mean_of(const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s += x;
    return v.empty() ? kNaN : s / static_cast<double>(v.size());
}

double sd_of(const std::vector<double>& v) {
    const double m = mean_of(v);
    double s = 0.0;
    for (double x : v) s += (x - m) * (x - m);
    return v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : kNaN;
}

using RiseCurves = std::map<std::string, std::map<std::size_t, std::vector<std::pair<double, double>>>>;

void summarize(const std::vector<Record>& records) {
    std::set<std::string> models;
    for (const Record& r : records) models.insert(r.model);
    for (const std::string& model : models) {
        std::vector<const Record*> rs;
        for (const Record& r : records)
            if (r.model == model) rs.push_back(&r);
        std::set<std::size_t> images;
        for (const Record* r : rs) images.insert(r->image);
        std::printf("\n=== %s: %zu images ===\n", model.c_str(), images.size());

        // RISE: masks to reach Pearson ≥ t per image, per variant; ratios to plain.
        RiseCurves curves;  // variant → image → (budget, r)
        for (const Record* r : rs)
            if (r->method.rfind("rise:", 0) == 0 && r->method != "rise:reference")
                curves[r->method.substr(5)][r->image].emplace_back(r->budget, r->pearson);
        if (!curves.empty()) {
            for (double t : {0.95, 0.99}) {
                std::printf("\nRISE: masks to reach Pearson >= %.2f with %s (median [quartiles]; ratio to plain per image)\n",
                            t, reference_of(model).c_str());
                std::map<std::size_t, double> plain_needed;
                auto needed_of = [&](const std::vector<std::pair<double, double>>& c) {
                    for (const auto& [b, p] : c)
                        if (p >= t) return b;
                    return std::numeric_limits<double>::infinity();
                };
                for (const auto& [image, c] : curves["plain"]) plain_needed[image] = needed_of(c);
                for (const RiseVariant& v : kRiseVariants) {
                    std::vector<double> needed, ratio, bound;
                    std::size_t reached = 0;
                    for (const auto& [image, c] : curves[v.name]) {
                        const double n = needed_of(c);
                        needed.push_back(n);
                        reached += std::isinf(n) ? 0 : 1;
                        if (std::isinf(n) || !plain_needed.count(image)) continue;
                        // Where plain RISE does not reach t within its ceiling, n / ceiling bounds the ratio.
                        if (std::isinf(plain_needed[image]))
                            bound.push_back(n / static_cast<double>(rise_variant("plain").ceiling));
                        else
                            ratio.push_back(n / plain_needed[image]);
                    }
                    std::printf("  %-28s %-24s reached by %zu/%zu   ratio to plain %s", v.name, spread(needed).c_str(),
                                reached, needed.size(), spread(ratio).c_str());
                    if (!bound.empty() && v.name != std::string("plain"))
                        std::printf("   where plain did not reach it: ratio < %s (%zu images)", spread(bound).c_str(),
                                    bound.size());
                    std::printf("\n");
                }
            }
            std::printf("\nRISE: median Pearson with the reference at each budget\n  %-28s", "masks");
            for (std::size_t b : kRiseBudgets) std::printf(" %6zu", b);
            std::printf("\n");
            for (const RiseVariant& v : kRiseVariants) {
                std::printf("  %-28s", v.name);
                for (std::size_t b : kRiseBudgets) {
                    std::vector<double> p;
                    for (const auto& [image, c] : curves[v.name])
                        for (const auto& [bb, pp] : c)
                            if (bb == static_cast<double>(b)) p.push_back(pp);
                    if (p.empty())
                        std::printf(" %6s", "");
                    else
                        std::printf(" %6.3f", quantile(p, 0.5));
                }
                std::printf("\n");
            }
        }

        // Deletion / insertion at equal budgets: mean AUC and the paired difference to plain RISE.
        std::map<std::string, std::map<double, std::map<std::size_t, std::pair<double, double>>>> aucs;  // method → budget → image
        for (const Record* r : rs)
            if (!std::isnan(r->deletion)) {
                // coarse-to-fine occlusion's windows differ per image: one line per setting (budget 0)
                const double budget = r->method.rfind("occlusion:L", 0) == 0 ? 0.0 : r->budget;
                aucs[r->method][budget][r->image] = {r->deletion, r->insertion};
            }
        if (!aucs.empty()) {
            std::printf("\nDeletion (lower is better) and insertion (higher is better) AUC: mean over images; "
                        "for RISE estimators the paired difference to plain RISE at the same budget, mean ± standard error\n");
            for (const auto& [method, by_budget] : aucs)
                for (const auto& [budget, by_image] : by_budget) {
                    std::vector<double> del, ins, ddel, dins;
                    for (const auto& [image, v] : by_image) {
                        del.push_back(v.first);
                        ins.push_back(v.second);
                        const auto plain = aucs.find("rise:plain");
                        if (method.rfind("rise:", 0) == 0 && method != "rise:plain" && plain != aucs.end() &&
                            plain->second.count(budget) && plain->second.at(budget).count(image)) {
                            ddel.push_back(v.first - plain->second.at(budget).at(image).first);
                            dins.push_back(v.second - plain->second.at(budget).at(image).second);
                        }
                    }
                    std::printf("  %-30s %6s  deletion %.4f  insertion %.4f", method.c_str(),
                                budget > 0.0 ? format(budget).c_str() : "varies", mean_of(del), mean_of(ins));
                    if (ddel.size() == 1)  // one image: a difference, no standard error
                        std::printf("   vs plain: deletion %+.4f, insertion %+.4f", ddel[0], dins[0]);
                    else if (!ddel.empty())
                        std::printf("   vs plain: deletion %+.4f ± %.4f, insertion %+.4f ± %.4f", mean_of(ddel),
                                    sd_of(ddel) / std::sqrt(static_cast<double>(ddel.size())), mean_of(dins),
                                    sd_of(dins) / std::sqrt(static_cast<double>(dins.size())));
                    std::printf("\n");
                }
        }

        // LIME: top-5 agreement with the 10,000-sample top-5, and the samples used.
        std::map<std::string, std::vector<double>> match, overlap, used, converged;
        std::vector<double> superpixels;
        for (const Record* r : rs) {
            if (r->method == "lime:reference") superpixels.push_back(r->extra);
            if (r->method.rfind("lime:", 0) != 0 || r->method == "lime:reference") continue;
            match[r->method].push_back(r->extra);
            overlap[r->method].push_back(r->extra2);
            used[r->method].push_back(r->budget);
            if (!std::isnan(r->pearson)) converged[r->method].push_back(r->pearson);
        }
        if (!match.empty()) {
            std::printf("\nLIME (superpixels per image %s): top-5 equal to the 10,000-sample top-5, over images × 5 seeds\n",
                        spread(superpixels).c_str());
            for (const auto& [method, m] : match) {
                std::printf("  %-18s match %5.1f%% (%zu runs), shared %.2f of 5  samples %s", method.c_str(), 100.0 * mean_of(m),
                            m.size(), mean_of(overlap[method]), spread(used[method]).c_str());
                if (converged.count(method)) std::printf("  converged %5.1f%%", 100.0 * mean_of(converged[method]));
                std::printf("\n");
            }
            std::map<std::string, std::map<std::size_t, std::vector<double>>> by_image;
            for (const Record* r : rs)
                if (r->method.rfind("lime:", 0) == 0 && r->method != "lime:reference") by_image[r->method][r->image].push_back(r->extra);
            for (const auto& [method, images_of] : by_image) {
                std::size_t at_least_90 = 0;
                for (const auto& [image, v] : images_of) at_least_90 += mean_of(v) >= 0.9 ? 1 : 0;
                std::printf("  %-18s images where >= 90%% of the seeds match: %zu/%zu\n", method.c_str(), at_least_90,
                            images_of.size());
            }
            // A second and third 10,000-sample reference against the first: how reproducible the reference is.
            std::vector<double> ref_match, ref_shared;
            std::map<std::size_t, std::vector<double>> reference_agrees;  // per image
            for (const Record* r : rs)
                if (r->method.rfind("limeref:", 0) == 0) {
                    ref_match.push_back(r->extra);
                    ref_shared.push_back(r->extra2);
                    reference_agrees[r->image].push_back(r->extra);
                }
            if (!ref_match.empty()) {
                std::printf("  another 10,000-sample reference (seeds 2000003, 3000003): match %5.1f%% (%zu runs), shared %.2f of 5\n",
                            100.0 * mean_of(ref_match), ref_match.size(), mean_of(ref_shared));
                // The images whose reference top 5 is reproducible (both other references equal it):
                // there the goal is meaningful, so the match rates are repeated on them alone.
                std::set<std::size_t> settled;
                for (const auto& [image, v] : reference_agrees)
                    if (v.size() == 2 && mean_of(v) == 1.0) settled.insert(image);
                std::printf("  images whose reference top 5 is reproduced by both other references: %zu/%zu\n", settled.size(),
                            reference_agrees.size());
                for (const auto& [method, images_of] : by_image) {
                    std::vector<double> runs;
                    std::size_t at_least_90 = 0, images = 0;
                    for (const auto& [image, v] : images_of) {
                        if (!settled.count(image)) continue;
                        runs.insert(runs.end(), v.begin(), v.end());
                        at_least_90 += mean_of(v) >= 0.9 ? 1 : 0;
                        ++images;
                    }
                    if (images > 0)
                        std::printf("    on them %-18s match %5.1f%% (%zu runs), images where >= 90%% of the seeds match: %zu/%zu\n",
                                    method.c_str(), 100.0 * mean_of(runs), runs.size(), at_least_90, images);
                }
            }
            // adaptive runs that converged: how often they match, and the samples they needed
            std::vector<double> converged_match, converged_samples;
            for (const Record* r : rs)
                if (r->method == "lime:adaptive" && r->pearson == 1.0) {
                    converged_match.push_back(r->extra);
                    converged_samples.push_back(r->budget);
                }
            if (!converged_match.empty())
                std::printf("  adaptive runs that converged: %zu, of which %.1f%% match; samples %s\n", converged_match.size(),
                            100.0 * mean_of(converged_match), spread(converged_samples).c_str());
        }

        // Occlusion: windows evaluated and agreement with the full map.
        std::map<std::string, std::vector<double>> windows, agreement;
        std::vector<double> full_windows;
        for (const Record* r : rs) {
            if (r->method == "occlusion:full") full_windows.push_back(r->budget);
            if (r->method.rfind("occlusion:L", 0) != 0) continue;
            windows[r->method].push_back(r->budget / r->extra);
            agreement[r->method].push_back(r->pearson);
        }
        if (!windows.empty()) {
            std::printf("\nOcclusion coarse to fine (full: %s windows): share of windows evaluated, Pearson with the full map\n",
                        spread(full_windows).c_str());
            for (const auto& [method, w] : windows) {
                std::size_t good = 0;
                for (double p : agreement[method]) good += p >= 0.95 ? 1 : 0;
                std::printf("  %-22s windows %s   Pearson %s   >= 0.95 for %zu/%zu\n", method.c_str(), spread(w).c_str(),
                            spread(agreement[method]).c_str(), good, agreement[method].size());
            }
        }

        // Sobol: agreement with the RISE reference and with its own 64-design map.
        std::map<double, std::vector<double>> sobol_rise, sobol_own;
        for (const Record* r : rs)
            if (r->method == "sobol") {
                if (!std::isnan(r->pearson)) sobol_rise[r->budget].push_back(r->pearson);
                sobol_own[r->budget].push_back(r->extra);
            }
        if (!sobol_own.empty()) {
            std::printf("\nSobol attribution (g = 8): Pearson with %s, and with its own 64-design map\n",
                        reference_of(model).c_str());
            for (const auto& [budget, own] : sobol_own)
                std::printf("  %6g forwards   with RISE %s   with its own N=64 %s\n", budget, spread(sobol_rise[budget]).c_str(),
                            spread(own).c_str());
        }

        // Score-CAM: channels scored and error against full Score-CAM.
        std::map<std::string, std::vector<double>> channels, error, corr;
        std::vector<double> total_channels;
        for (const Record* r : rs)
            if (r->method.rfind("scorecam:", 0) == 0) {
                channels[r->method].push_back(r->budget);
                error[r->method].push_back(r->extra);
                corr[r->method].push_back(r->pearson);
                if (r->method == "scorecam:0") total_channels.push_back(r->extra2);
            }
        if (!channels.empty()) {
            std::printf("\nScore-CAM with a mass tolerance (layer channels %s): channels scored, relative L1 error and Pearson "
                        "of the raw map against full Score-CAM\n",
                        spread(total_channels).c_str());
            for (const auto& [method, c] : channels)
                std::printf("  %-16s channels %s   L1 error %s   Pearson %s\n", method.c_str(), spread(c).c_str(),
                            spread(error[method]).c_str(), spread(corr[method]).c_str());
        }
    }
}

/// The names of a comma-separated list ("rise,lime") given to `flag`; a name outside `known`
/// stops the program (a typo would otherwise run nothing of what was asked, silently).
std::set<std::string> comma_list(const std::string& flag, const std::string& list, const std::vector<std::string>& known) {
    std::set<std::string> names;
    std::stringstream ss(list);
    std::string name;
    while (std::getline(ss, name, ',')) {
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string expected;
            for (const std::string& k : known) expected += (expected.empty() ? "" : ", ") + k;
            std::fprintf(stderr, "%s: unknown name '%s' (expected a comma-separated list of: %s)\n", flag.c_str(),
                         name.c_str(), expected.c_str());
            std::exit(2);
        }
        names.insert(name);
    }
    return names;
}

/// The names --rise-variants accepts: kRiseVariants' names.
std::vector<std::string> rise_variant_names() {
    std::vector<std::string> names;
    for (const RiseVariant& v : kRiseVariants) names.push_back(v.name);
    return names;
}

Arguments parse(int argc, char** argv) {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", flag.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (flag == "--model") a.model = value();
        else if (flag == "--first") a.first = std::strtoul(value().c_str(), nullptr, 10);
        else if (flag == "--count") a.count = std::strtoul(value().c_str(), nullptr, 10);
        else if (flag == "--threads") a.threads = std::strtoul(value().c_str(), nullptr, 10);
        else if (flag == "--out") a.out = value();
        else if (flag == "--parts")
            a.parts = comma_list(flag, value(), kPartNames);
        else if (flag == "--rise-variants") a.rise_variants = comma_list(flag, value(), rise_variant_names());
        else if (flag == "--rise-reference") {
            const std::set<std::string> one = comma_list(flag, value(), rise_variant_names());
            if (one.size() != 1) {
                std::fprintf(stderr, "--rise-reference: expected one estimator name\n");
                std::exit(2);
            }
            a.rise_reference = *one.begin();
        } else if (flag == "--rise-reference-masks") {
            a.rise_reference_masks = std::strtoul(value().c_str(), nullptr, 10);
            if (a.rise_reference_masks < 2 || a.rise_reference_masks % 2 != 0) {
                std::fprintf(stderr, "--rise-reference-masks: expected an even number of masks >= 2 (antithetic "
                                     "references draw pairs)\n");
                std::exit(2);
            }
        }
        else if (flag == "--summarize") {
            while (i + 1 < argc) a.summarize.emplace_back(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: efficiency --model scenes|resnet18 [--first I] [--count K] [--parts LIST] "
                                 "[--out FILE.csv] [--threads T] [--rise-variants LIST] [--rise-reference NAME] "
                                 "[--rise-reference-masks N] | --summarize FILE.csv …\n");
            std::exit(2);
        }
    }
    if (a.out.empty()) a.out = "efficiency_" + a.model + ".csv";
    return a;
}

/// Everything for one image of one model.
template <class Model, class Segmenter>
void run_image(const Model& model, const std::string& name, std::size_t index, const xai::Image& image,
               const Arguments& args, const xai::LimeOptions& lime_options, const Segmenter& segmenter,
               std::size_t window, std::size_t stride, const std::string& cam_layer, const MetricSetup& metrics,
               RecordFile& file, std::optional<double> check_rise) {
    const auto start = std::chrono::steady_clock::now();
    const auto [target, score] = predict(model, image);
    xai::Map reference;
    if (args.parts.count("rise")) run_rise(model, name, index, image, target, score, check_rise, metrics, args, file, reference);
    if (args.parts.count("lime")) run_lime(model, name, index, image, target, lime_options, segmenter, file);
    if (args.parts.count("limeref"))
        run_lime_reference_stability(model, name, index, image, target, lime_options, segmenter, file);
    if (args.parts.count("occlusion")) run_occlusion(model, name, index, image, target, window, stride, metrics, args, file, reference);
    if (args.parts.count("sobol")) run_sobol(model, name, index, image, target, metrics, args, file, reference);
    if (args.parts.count("scorecam")) {
        if constexpr (xai::LayerActivationModel<Model>) run_score_cam(model, name, index, image, target, cam_layer, args, file);
    }
    std::printf("%s image %zu (class %zu, probability %.4f): %.1f s\n", name.c_str(), index, target, score,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
    const Arguments args = parse(argc, argv);
    if (!args.summarize.empty()) {
        summarize(finished_parts(read_records(args.summarize)));
        return 0;
    }
    RecordFile file(args.out);
#ifdef XAI_EFFICIENCY_WITH_TORCH
    if (args.model == "resnet18") {
        xai::models::TorchOptions options;
        options.input_shape = {3, 224, 224};
        options.threads = args.threads;
        const NormalizedModel model{xai::models::TorchModel(xai::models::torch_resnet({}, 0, xai::models::TorchResNetInit::torchvision), options), {}};
        const char* photos[3] = {"chelsea_224.png", "astronaut_224.png", "coffee_224.png"};
        const auto load_photo = [&](std::size_t i) {
            return xai::load_image(xai::data_directory() / "samples" / "photos" / photos[i], 3);
        };
        const xai::LimeOptions lime_options{.top_labels = 0, .threads = args.threads};
        if (args.first < 3)
            print_resnet_probe(model, photos[args.first], load_photo(args.first));
        for (std::size_t i = args.first; i < std::min<std::size_t>(3, args.first + args.count); ++i) {
            run_image(model, model_label("resnet18", args), i, load_photo(i), args, lime_options, xai::Quickshift{}, 15, 8,
                      "layer4", MetricSetup{224 * 224 / 56, args.threads}, file,
                      i == 0 ? std::optional<double>(kTorchBatchRounding) : std::nullopt);
        }
        return 0;
    }
#endif
    if (args.model != "scenes") {
        std::fprintf(stderr, "unknown model '%s' (scenes; resnet18 with efficiency_torch)\n", args.model.c_str());
        return 2;
    }
    const xai::models::Sequential model = xai::models::load_builtin("scenes");
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, 0);
    const xai::Batch scenes = xai::make_scenes(test.images, test.labels, args.first, args.count).images;
    xai::SlicOptions slic;
    slic.n_segments = 40;
    slic.compactness = 0.1;
    const xai::LimeOptions lime_options{.top_labels = 0, .baseline = xai::Baseline::constant(0.0f), .threads = args.threads};
    for (std::size_t i = 0; i < scenes.shape(0); ++i)
        run_image(model, model_label("scenes", args), args.first + i, xai::image_at(scenes, i), args, lime_options, xai::Slic{slic}, 9, 3,
                  "relu4", MetricSetup{std::nullopt, args.threads}, file,
                  args.first + i == 0 ? std::optional<double>(0.0) : std::nullopt);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "efficiency: %s\n", e.what());
    return 1;
}
