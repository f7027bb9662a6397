// Peak memory of RISE with N = 4000 masks at 224×224 (issue 5's goal: under 100 MB beyond the
// model), read from the kernel's high-water mark VmHWM in /proc/self/status.
//
//   rise_memory [batch_size=32] [num_masks=4000] [size=224]
//
// The model is a stand-in whose forward pass needs no memory of its own (its logits are the
// channel means of each image), so the growth of VmHWM during explain() is RISE's: the
// masked batch (batch · C·H·W floats), the batch's masks (batch · H·W floats), the running
// sums and squares (2 · H·W doubles), the returned maps. The reference implementation would
// hold N·H·W floats of masks (printed for comparison, not allocated). One configuration per
// run, because the high-water mark never goes down.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "xai/rise.hpp"

namespace {

/// VmHWM (peak resident set size) of this process in MiB, or −1 where /proc is unavailable.
double peak_rss_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // the value is in kB
    return -1.0;
}

struct ChannelMeanModel {
    xai::ImageShape shape;
    xai::Scores forward(const xai::Batch& batch) const {
        const std::size_t n = batch.shape(0), plane = shape.height * shape.width;
        xai::Scores s = xai::Scores::from_shape({n, shape.channels});
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t c = 0; c < shape.channels; ++c) {
                double sum = 0.0;
                const float* p = batch.data() + (i * shape.channels + c) * plane;
                for (std::size_t k = 0; k < plane; ++k) sum += p[k];
                s(i, c) = static_cast<float>(sum / static_cast<double>(plane));
            }
        return s;
    }
    std::size_t num_classes() const { return shape.channels; }
    xai::ImageShape input_shape() const { return shape; }
};

std::size_t argument(int argc, char** argv, int i, std::size_t fallback) {
    return argc > i ? static_cast<std::size_t>(std::strtoull(argv[i], nullptr, 10)) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t batch = argument(argc, argv, 1, 32), masks = argument(argc, argv, 2, 4000),
                      size = argument(argc, argv, 3, 224);
    const ChannelMeanModel model{{3, size, size}};
    xai::Image image = xai::Image::from_shape({3, size, size});
    for (std::size_t p = 0; p < image.size(); ++p) image.data()[p] = static_cast<float>(p % 255) / 255.0f;

    const xai::Rise rise(model, {.num_masks = masks, .batch_size = batch});
    const double before = peak_rss_mib();
    const xai::RiseExplanation e = rise.explain(image, 0);
    const double after = peak_rss_mib();

    const double mib = 1.0 / (1024.0 * 1024.0);
    const double pixels = static_cast<double>(size * size);
    std::printf("RISE N=%zu, %zux%zu, batch %zu, %zu masks used\n", masks, size, size, batch, e.masks_used[0]);
    std::printf("  peak RSS before explain(): %8.1f MiB\n", before);
    std::printf("  peak RSS after explain():  %8.1f MiB\n", after);
    std::printf("  growth during explain():   %8.1f MiB\n", after - before);
    std::printf("  expected: masked batch %.1f + masks %.1f + sums %.1f MiB\n",
                static_cast<double>(batch) * 3.0 * pixels * 4.0 * mib, static_cast<double>(batch) * pixels * 4.0 * mib,
                2.0 * pixels * 8.0 * mib);
    std::printf("  the reference's stored masks would take: %.1f MiB\n", static_cast<double>(masks) * pixels * 4.0 * mib);
    return 0;
}
