// Which grid size s suits RISE on small inputs? Runs RISE with several s on held-out images of a
// built-in model and scores the maps with the paper's deletion and insertion metrics
// (metrics/deletion_insertion.hpp; lower deletion AUC and higher insertion AUC are better).
// The figures behind the advice in docs/methods/rise.md.
//
//   rise_grid_size [--model fashion|scenes] [--images K] [--masks N]
//
// fashion: the first K Fashion-MNIST test images (28×28); scenes: the first K held-out scenes
// (64×64, make_scenes(test, 0, K)). Needs Debian's dataset-fashion-mnist (or
// XAI_FASHION_MNIST_DIR). Prints a Markdown table: s, cell size, mean deletion and insertion AUC.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/metrics/deletion_insertion.hpp"
#include "xai/models/builtin.hpp"
#include "xai/rise.hpp"

int main(int argc, char** argv) try {
    std::string name = "fashion";
    std::size_t count = 20, masks = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--model") name = argv[i + 1];
        else if (flag == "--images") count = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
        else if (flag == "--masks") masks = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
        else {
            std::fprintf(stderr, "usage: %s [--model fashion|scenes] [--images K] [--masks N]\n", argv[0]);
            return 2;
        }
    }
    const xai::models::Sequential model = xai::models::load_builtin(name);
    const xai::LabelledImages test = xai::load_fashion_mnist(xai::FashionMnistSplit::test, name == "fashion" ? count : 0);
    const xai::Batch images = name == "fashion" ? test.images : xai::make_scenes(test.images, test.labels, 0, count).images;
    const std::size_t size = images.shape(2);
    const std::vector<std::size_t> grids =
        name == "fashion" ? std::vector<std::size_t>{2, 3, 4, 5, 6, 7, 9, 14} : std::vector<std::size_t>{3, 4, 5, 7, 10, 14, 20};

    std::printf("RISE on %zu %s images (%zux%zu), N = %zu masks, p1 = 0.5\n\n", images.shape(0), name.c_str(), size,
                size, masks);
    std::printf("| s | cell (px) | deletion AUC (lower is better) | insertion AUC (higher is better) |\n");
    std::printf("| --- | --- | --- | --- |\n");
    for (std::size_t s : grids) {
        const xai::RiseExplanation e = xai::Rise(model, {.num_masks = masks, .grid_size = s}).explain(images);
        const xai::CausalCurves del = xai::deletion(model, images, e.raw);
        const xai::CausalCurves ins = xai::insertion(model, images, e.raw);
        std::printf("| %zu | %zu | %.4f | %.4f |\n", s, (size + s - 1) / s, del.mean_auc, ins.mean_auc);
        std::fflush(stdout);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "rise_grid_size: %s\n", e.what());
    return 1;
}
