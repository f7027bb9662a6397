// The picture and numbers of docs/superpixels.md on quick shift's tie rule: the library's
// default rule (an exact tie between densities goes to the higher pixel index) against
// scikit-image's (seeded 1e-5 noise, QuickshiftTies::seeded_noise), with lime's parameters.
//
//   quickshift_ties [--image PATH] [--out PICTURE]
//
// --image   an RGB picture (default data/samples/photos/astronaut_224.png)
// --out     the picture (default docs/images/quickshift_ties.png): left, the segments of the index
//           rule; middle, those of the noise rule; right, in red the pixels outside the noise-rule
//           segment that best overlaps their index-rule segment (where the two rules disagree);
//           halved when wider than 768 px
// Prints the segment counts, the times and the adjusted Rand index between the two.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "xai/core/data_dir.hpp"
#include "xai/image/io.hpp"
#include "xai/image/resize.hpp"
#include "xai/image/superpixels.hpp"

namespace {

/// The adjusted Rand index of two labellings of the same pixels (Hubert and Arabie, 1985).
double adjusted_rand_index(const xai::Segmentation& a, const xai::Segmentation& b) {
    std::map<std::pair<std::int32_t, std::int32_t>, double> joint;
    std::vector<double> rows(a.count, 0.0), cols(b.count, 0.0);
    const std::size_t n = a.labels.size();
    for (std::size_t p = 0; p < n; ++p) {
        joint[{a.labels.data()[p], b.labels.data()[p]}] += 1.0;
        rows[static_cast<std::size_t>(a.labels.data()[p])] += 1.0;
        cols[static_cast<std::size_t>(b.labels.data()[p])] += 1.0;
    }
    auto pairs = [](double k) { return k * (k - 1.0) / 2.0; };
    double index = 0.0, sum_rows = 0.0, sum_cols = 0.0;
    for (const auto& [key, count] : joint) index += pairs(count);
    for (double r : rows) sum_rows += pairs(r);
    for (double c : cols) sum_cols += pairs(c);
    const double expected = sum_rows * sum_cols / pairs(static_cast<double>(n));
    const double maximum = 0.5 * (sum_rows + sum_cols);
    return (index - expected) / (maximum - expected);
}

xai::Segmentation timed(const char* name, const xai::Image& image, const xai::QuickshiftOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    xai::Segmentation s = xai::quickshift(image, options);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-13s %4zu segments  %8.1f ms\n", name, s.count, ms);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::filesystem::path image_path = xai::data_directory() / "samples" / "photos" / "astronaut_224.png";
    std::filesystem::path out = "docs/images/quickshift_ties.png";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--image") image_path = argv[i + 1];
        else if (flag == "--out") out = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: quickshift_ties [--image PATH] [--out PICTURE]\n");
            return 2;
        }
    }
    const xai::Image image = xai::load_image(image_path, 3);
    const xai::QuickshiftOptions by_index{};  // lime's kernel_size 4, max_dist 200, ratio 0.2
    xai::QuickshiftOptions by_noise = by_index;
    by_noise.ties = xai::QuickshiftTies::seeded_noise;
    const xai::Segmentation a = timed("pixel_index", image, by_index);
    const xai::Segmentation b = timed("seeded_noise", image, by_noise);
    std::printf("ARI(pixel_index, seeded_noise) = %.4f\n", adjusted_rand_index(a, b));

    // Disagreement: each index-rule segment is matched to the noise-rule segment it overlaps most.
    std::vector<std::map<std::int32_t, std::size_t>> overlap(a.count);
    const std::size_t n = a.labels.size();
    for (std::size_t p = 0; p < n; ++p) ++overlap[static_cast<std::size_t>(a.labels.data()[p])][b.labels.data()[p]];
    std::vector<std::int32_t> match(a.count);
    for (std::size_t s = 0; s < a.count; ++s) {
        std::size_t best = 0;
        for (const auto& [label, count] : overlap[s])
            if (count > best) {
                best = count;
                match[s] = label;
            }
    }
    xai::Image disagreement = image;
    std::size_t differing = 0;
    for (std::size_t p = 0; p < n; ++p) {
        if (b.labels.data()[p] == match[static_cast<std::size_t>(a.labels.data()[p])]) continue;
        ++differing;
        disagreement.data()[p] = 1.0f;
        disagreement.data()[n + p] = 0.0f;
        disagreement.data()[2 * n + p] = 0.0f;
    }
    std::printf("pixels outside their best-matching segment: %zu of %zu (%.1f%%)\n", differing, n,
                100.0 * static_cast<double>(differing) / static_cast<double>(n));

    const std::size_t h = image.shape(1), w = image.shape(2), gap = 4;
    xai::Image picture = xai::Image::from_shape({3, h, 3 * w + 2 * gap});
    picture.fill(1.0f);
    const xai::Image panels[3] = {xai::mark_boundaries(image, a, {1.0f, 1.0f, 0.0f}),
                                  xai::mark_boundaries(image, b, {1.0f, 1.0f, 0.0f}), disagreement};
    for (std::size_t k = 0; k < 3; ++k)
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t y = 0; y < h; ++y)
                for (std::size_t x = 0; x < w; ++x) picture(c, y, k * (w + gap) + x) = panels[k](c, y, x);
    // Pictures wider than 768 px are halved (the full-size astronaut: 1544 → 772 px).
    if (picture.shape(2) > 768) picture = xai::resize(picture, picture.shape(1) / 2, picture.shape(2) / 2);
    std::filesystem::create_directories(out.parent_path().empty() ? "." : out.parent_path());
    xai::save_image(out, picture);
    return 0;
}
