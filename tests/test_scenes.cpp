// Tests of include/xai/data/scenes.hpp: determinism, exact ground truth, clutter placement.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "scene_items.hpp"
#include "xai/core/data_dir.hpp"
#include "xai/data/fashion_mnist.hpp"
#include "xai/data/scenes.hpp"
#include "xai/image/io.hpp"

using Catch::Matchers::Contains;

namespace {

/// N items of 28×28 whose pixels all equal value(i): flat items make every drawn value exact.
xai::Batch flat_items(std::size_t n, float (*value)(std::size_t)) {
    xai::Batch items = xai::Batch::from_shape({n, 1, 28, 28});
    for (std::size_t i = 0; i < n; ++i) std::fill(items.begin() + static_cast<std::ptrdiff_t>(i * 784),
                                                  items.begin() + static_cast<std::ptrdiff_t>((i + 1) * 784), value(i));
    return items;
}

/// The discs of scene_items.hpp, values 0.3 + 0.07·i.
xai::Batch disc_items(std::size_t n) { return toy::disc_items(n, 0.07f); }

}  // namespace

TEST_CASE("scenes depend only on (seed, index), whatever the threads or the batch", "[scenes]") {
    const xai::Batch items = disc_items(9);
    xai::Labels labels(9);
    for (std::size_t i = 0; i < 9; ++i) labels[i] = i % 3;
    xai::SceneOptions options;
    options.seed = 5;
    const xai::SceneSet one_thread = xai::make_scenes(items, labels, 10, 12, options, 1);
    const xai::SceneSet three_threads = xai::make_scenes(items, labels, 10, 12, options, 3);
    CHECK((one_thread.images == three_threads.images));
    CHECK((one_thread.masks == three_threads.masks));
    CHECK(one_thread.boxes == three_threads.boxes);
    for (std::size_t k : {0u, 7u, 11u}) {
        const xai::Scene scene = xai::make_scene(items, labels, 10 + k, options);
        CHECK((scene.image == xt::view(one_thread.images, k)));
        CHECK((scene.mask == xt::view(one_thread.masks, k)));
        CHECK(scene.box == one_thread.boxes[k]);
        CHECK(scene.item_index == (10 + k) % 9);
        CHECK(scene.label == labels[(10 + k) % 9]);
    }
    const xai::SceneSet picked = xai::make_scenes(items, labels, std::vector<std::size_t>{21, 10}, options);
    CHECK((xt::view(picked.images, 0) == xt::view(one_thread.images, 11)));
    CHECK((xt::view(picked.images, 1) == xt::view(one_thread.images, 0)));
    options.seed = 6;
    CHECK_FALSE((xai::make_scene(items, labels, 10, options).image == xt::view(one_thread.images, 0)));
}

TEST_CASE("the ground truth is exact: tight box, drawn item = mask, no clutter near the box", "[scenes]") {
    const xai::Batch items = disc_items(7);
    const xai::Labels labels{0, 1, 2, 3, 4, 5, 6};
    xai::SceneOptions options;
    options.noise_stddev = 0.0f;
    options.background = 0.0f;
    options.seed = 3;
    std::size_t scenes_with_clutter = 0;
    for (std::size_t index = 0; index < 40; ++index) {
        const xai::Scene s = xai::make_scene(items, labels, index, options);
        const std::size_t S = options.canvas_size;
        const float item_value = 0.3f + 0.07f * static_cast<float>(s.item_index);
        std::size_t top = S, left = S, bottom = 0, right = 0, clutter = 0;
        for (std::size_t y = 0; y < S; ++y)
            for (std::size_t x = 0; x < S; ++x) {
                const float v = s.image(0, y, x);
                if (s.mask(y, x)) {
                    // Inside the mask: the item's own pixels, above the threshold.
                    REQUIRE(v > options.mask_threshold);
                    REQUIRE(v <= item_value + 1e-6f);
                    top = std::min(top, y);
                    left = std::min(left, x);
                    bottom = std::max(bottom, y + 1);
                    right = std::max(right, x + 1);
                    continue;
                }
                const bool near_box = y + options.margin >= s.box.top && y < s.box.bottom + options.margin &&
                                      x + options.margin >= s.box.left && x < s.box.right + options.margin;
                if (near_box) REQUIRE(v == 0.0f);  // no clutter within `margin` pixels of the box
                clutter += v > 0.0f ? 1 : 0;
            }
        CHECK(s.box == xai::SceneBox{top, left, bottom, right});
        // A disc of radius r in a 28-pixel frame drawn at 24..44 pixels spans about 2r·s/28.
        CHECK(s.box.height() >= 9);
        CHECK(s.box.height() <= 44);
        scenes_with_clutter += clutter > 0 ? 1 : 0;
    }
    CHECK(scenes_with_clutter >= 30);
}

TEST_CASE("clutter comes from other items only, and items are drawn at the chosen scale", "[scenes]") {
    // Two flat items: 0.5 (label 0) and 0.9 (label 1). The item fills its whole frame, so the
    // box is the frame: square, of a side in [min_item_size, max_item_size]; every clutter
    // pixel has the other item's value.
    const xai::Batch items = flat_items(2, [](std::size_t i) { return i == 0 ? 0.5f : 0.9f; });
    const xai::Labels labels{0, 1};
    xai::SceneOptions options;
    options.noise_stddev = 0.0f;
    options.min_item_size = 20;
    options.max_item_size = 30;
    options.fragment_min_ink = 0.0f;
    std::vector<std::size_t> sizes;
    for (std::size_t index = 0; index < 30; ++index) {
        const xai::Scene s = xai::make_scene(items, labels, index, options);
        const float own = index % 2 == 0 ? 0.5f : 0.9f, other = index % 2 == 0 ? 0.9f : 0.5f;
        CHECK(s.label == index % 2);
        CHECK(s.box.height() == s.box.width());
        CHECK(s.box.height() >= 20);
        CHECK(s.box.height() <= 30);
        sizes.push_back(s.box.height());
        std::size_t mask_pixels = 0;
        for (std::size_t y = 0; y < 64; ++y)
            for (std::size_t x = 0; x < 64; ++x) {
                const float v = s.image(0, y, x);
                if (s.mask(y, x)) {
                    ++mask_pixels;
                    REQUIRE(v == Approx(own));
                } else if (v != 0.0f) {
                    REQUIRE(v == Approx(other));
                }
            }
        CHECK(mask_pixels == s.box.area());
    }
    std::sort(sizes.begin(), sizes.end());
    CHECK(sizes.front() < sizes.back());  // the scale varies
}

TEST_CASE("noise keeps pixels in [0, 1]; larger canvases work", "[scenes]") {
    const xai::Batch items = disc_items(4);
    const xai::Labels labels{0, 1, 0, 1};
    xai::SceneOptions options;
    options.canvas_size = 96;
    options.noise_stddev = 0.2f;
    const xai::SceneSet set = xai::make_scenes(items, labels, 0, 8, options, 2);
    CHECK(set.images.shape(2) == 96);
    CHECK(xt::amin(set.images)() >= 0.0f);
    CHECK(xt::amax(set.images)() <= 1.0f);
    CHECK(xt::amin(set.images)() == 0.0f);  // clamped noise reaches the bounds
    for (const xai::SceneBox& b : set.boxes) {
        CHECK(b.bottom <= 96);
        CHECK(b.right <= 96);
        CHECK(b.area() > 0);
    }
}

TEST_CASE("scene options and sources are validated", "[scenes][errors]") {
    const xai::Batch items = disc_items(3);
    const xai::Labels labels{0, 1, 2};
    CHECK_THROWS_WITH(xai::make_scene(xt::view(items, xt::range(0, 1)), {0}, 0), Contains("N >= 2"));
    CHECK_THROWS_AS(xai::make_scene(xai::Batch(xt::zeros<float>({3, 3, 28, 28})), labels, 0), xai::shape_error);
    CHECK_THROWS_WITH(xai::make_scene(items, {0, 1}, 0), Contains("2 labels for 3 items"));
    xai::SceneOptions o;
    o.max_item_size = 70;
    CHECK_THROWS_WITH(xai::make_scene(items, labels, 0, o), Contains("does not fit a canvas of 64"));
    o = {};
    o.min_item_size = 50;
    o.max_item_size = 40;
    CHECK_THROWS_AS(xai::make_scene(items, labels, 0, o), xai::invalid_argument);
    o = {};
    o.max_fragment_size = 29;
    CHECK_THROWS_WITH(xai::make_scene(items, labels, 0, o), Contains("fragment sizes"));
    o = {};
    o.min_fragments = 5;
    o.max_fragments = 2;
    CHECK_THROWS_AS(xai::make_scene(items, labels, 0, o), xai::invalid_argument);
    o = {};
    o.noise_stddev = -1.0f;
    CHECK_THROWS_AS(xai::make_scene(items, labels, 0, o), xai::invalid_argument);
    CHECK_THROWS_WITH(xai::make_scenes(items, labels, 0, 0), Contains("expected at least one"));
    CHECK_THROWS_AS(xai::make_scenes(items, labels, std::vector<std::size_t>{}), xai::invalid_argument);
}

TEST_CASE("the shipped scene samples' boxes are the tight boxes of their mask images", "[scenes][samples]") {
    const std::filesystem::path dir = xai::data_directory() / "samples/scenes";
    std::ifstream in(dir / "ground_truth.json");
    REQUIRE(in.good());
    const std::regex entry(
        R"re("file": "([^"]+)", "mask": "([^"]+)".*"label": ([0-9]+), "class": "([^"]+)", "box": \{"top": ([0-9]+), "left": ([0-9]+), "bottom": ([0-9]+), "right": ([0-9]+)\})re");
    std::size_t count = 0;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, entry)) continue;
        ++count;
        const xai::Image image = xai::load_image(dir / m[1].str(), 1);
        const xai::Image mask = xai::load_image(dir / m[2].str(), 1);
        REQUIRE(image.shape(1) == 64);
        REQUIRE(mask.shape(1) == 64);
        CHECK(xai::fashion_mnist_classes.at(std::stoul(m[3].str())) == m[4].str());
        std::size_t top = 64, left = 64, bottom = 0, right = 0;
        for (std::size_t y = 0; y < 64; ++y)
            for (std::size_t x = 0; x < 64; ++x) {
                const float v = mask(0, y, x);
                REQUIRE((v == 0.0f || v == 1.0f));
                if (v == 0.0f) continue;
                top = std::min(top, y);
                left = std::min(left, x);
                bottom = std::max(bottom, y + 1);
                right = std::max(right, x + 1);
            }
        CHECK(xai::SceneBox{top, left, bottom, right} ==
              xai::SceneBox{std::stoul(m[5].str()), std::stoul(m[6].str()), std::stoul(m[7].str()), std::stoul(m[8].str())});
    }
    CHECK(count == 16);
}
