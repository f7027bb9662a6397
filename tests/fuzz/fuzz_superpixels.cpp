// Fuzz target: every superpixel algorithm (SLIC, quick shift, Felzenszwalb, grid) on a random
// small image with random parameters, including NaN, ±Inf, negative, zero and huge ones.
//
// Image sides are bounded (1–24) and so are SLIC's iterations (1–20): those set the amount of
// work a caller asks for. Every other parameter is free.
//
// Invariants: only xai::error escapes; a segmentation passes require_segmentation() (H×W,
// labels contiguous from 0, each used); the algorithms are deterministic (a second run gives
// the same labels).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "xai/image/superpixels.hpp"

namespace {

xai::Image random_image(fuzz::Input& in) {
    const std::uint8_t c = in.byte() % 8;
    const std::size_t channels = c < 4 ? 3 : c < 7 ? 1 : 2;  // 2 channels must be refused
    const std::size_t h = in.in_range(1, 24), w = in.in_range(1, 24);
    xai::Image image = xai::Image::from_shape({channels, h, w});
    const std::uint8_t fill = in.byte();
    if (fill < 64) {  // a constant image: flat colour is a classic division by zero
        const float v = in.pixel();
        image.fill(v);
    } else {
        for (float& v : image) v = in.pixel();
    }
    return image;
}

xai::Segmentation segment(std::uint8_t algorithm, const xai::Image& image, fuzz::Input& in) {
    switch (algorithm % 4) {
        case 0: {
            xai::SlicOptions o;
            o.n_segments = in.size();
            o.compactness = in.real();
            o.max_iter = in.in_range(0, 20);
            o.sigma = in.real();
            o.convert_to_lab = in.flag();
            o.enforce_connectivity = in.flag();
            o.min_size_factor = in.real();
            o.max_size_factor = in.real();
            return xai::slic(image, o);
        }
        case 1: {
            xai::QuickshiftOptions o;
            o.ratio = in.real();
            o.kernel_size = in.real();
            o.max_dist = in.real();
            o.sigma = in.real();
            o.convert_to_lab = in.flag();
            return xai::quickshift(image, o);
        }
        case 2: {
            xai::FelzenszwalbOptions o;
            o.scale = in.real();
            o.sigma = in.real();
            o.min_size = in.size();
            return xai::felzenszwalb(image, o);
        }
        default: {
            xai::GridOptions o;
            o.n_segments = in.size();
            o.rows = in.size();
            o.cols = in.size();
            return xai::grid_segments(image, o);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::uint8_t algorithm = in.byte();
    const xai::Image image = random_image(in);
    const auto options = in.rest();
    fuzz::accepts([&] {
        fuzz::Input first(options.data(), options.size());
        const xai::Segmentation s = segment(algorithm, image, first);
        const bool valid = fuzz::accepts([&] { xai::require_segmentation(s, image.shape(1), image.shape(2), "fuzz"); });
        fuzz::check(valid, "the segmentation is H×W with contiguous labels 0..count-1");
        fuzz::Input second(options.data(), options.size());
        const xai::Segmentation again = segment(algorithm, image, second);
        fuzz::check(again.count == s.count && again.labels == s.labels, "segmentation is deterministic");
    });
    return 0;
}
