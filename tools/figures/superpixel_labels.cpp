// Writes the superpixel labels of a picture as text, for the cross-checks against scikit-image
// recorded in docs/superpixels.md (the Python side reads them with numpy.loadtxt).
//
//   superpixel_labels ALGORITHM IMAGE OUT [N_SEGMENTS]
//
// ALGORITHM  slic | slic-exact (SlicOptions::exact) with skimage's defaults and n_segments
//            N_SEGMENTS (default 100), or quickshift | quickshift-noise (QuickshiftTies::
//            seeded_noise) with lime's kernel_size 4, max_dist 200, ratio 0.2
// OUT        H lines of W labels separated by spaces
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "xai/image/io.hpp"
#include "xai/image/superpixels.hpp"

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: superpixel_labels slic|slic-exact|quickshift|quickshift-noise IMAGE OUT [N_SEGMENTS]\n");
        return 2;
    }
    const std::string algorithm = argv[1];
    const xai::Image image = xai::load_image(argv[2], 3);
    xai::Segmentation s;
    if (algorithm == "slic" || algorithm == "slic-exact") {
        xai::SlicOptions options;
        options.n_segments = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 100;
        options.exact = algorithm == "slic-exact";
        s = xai::slic(image, options);
    } else if (algorithm == "quickshift" || algorithm == "quickshift-noise") {
        xai::QuickshiftOptions options;
        if (algorithm == "quickshift-noise") options.ties = xai::QuickshiftTies::seeded_noise;
        s = xai::quickshift(image, options);
    } else {
        std::fprintf(stderr, "unknown algorithm '%s'\n", algorithm.c_str());
        return 2;
    }
    std::ofstream out(argv[3]);
    for (std::size_t y = 0; y < s.height(); ++y) {
        for (std::size_t x = 0; x < s.width(); ++x) out << (x ? " " : "") << s.labels(y, x);
        out << '\n';
    }
    std::printf("%s: %zu segments\n", algorithm.c_str(), s.count);
    return 0;
}
