#pragma once
// A tiny RGB canvas for the pictures of the influence tools (xai-influence's gallery,
// tools/figures/influence_loo's plots): rectangles, lines, dots, text in stb_easy_font's glyphs
// (Debian's libstb-dev) and grey images enlarged with a coloured border.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <stb_easy_font.h>

#include "xai/core/tensor.hpp"

namespace xai_tools {

/// An RGB colour, components in [0, 1].
struct Color {
    float r, g, b;
};

/// An RGB image (3×H×W, white at first) to draw on; pixels() is ready for xai::save_image.
class Canvas {
public:
    Canvas(std::size_t width, std::size_t height) : pixels_(xt::ones<float>({std::size_t{3}, height, width})) {}

    void set(long x, long y, Color c) {
        if (x < 0 || y < 0 || x >= static_cast<long>(width()) || y >= static_cast<long>(height())) return;
        pixels_(0, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.r;
        pixels_(1, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.g;
        pixels_(2, static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = c.b;
    }
    void fill(long x0, long y0, long x1, long y1, Color c) {
        for (long y = y0; y < y1; ++y)
            for (long x = x0; x < x1; ++x) set(x, y, c);
    }
    void line(double x0, double y0, double x1, double y1, Color c) {
        const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
        for (int k = 0; k <= steps; ++k) {
            const double t = static_cast<double>(k) / steps;
            set(std::lround(x0 + t * (x1 - x0)), std::lround(y0 + t * (y1 - y0)), c);
        }
    }
    void dot(double x, double y, Color c) { fill(std::lround(x) - 2, std::lround(y) - 2, std::lround(x) + 3, std::lround(y) + 3, c); }
    /// Text with its top-left corner at (x, y), stb_easy_font's glyphs scaled by `scale`.
    void text(double x, double y, const std::string& s, Color c, int scale = 2) {
        std::vector<char> buffer(s.begin(), s.end());
        buffer.push_back('\0');
        std::vector<char> vertices(s.size() * 400 + 400);
        unsigned char rgba[4] = {0, 0, 0, 255};
        const int quads = stb_easy_font_print(0, 0, buffer.data(), rgba, vertices.data(), static_cast<int>(vertices.size()));
        for (int q = 0; q < quads; ++q) {
            float corner[4][2];
            for (int v = 0; v < 4; ++v) std::memcpy(corner[v], vertices.data() + (q * 4 + v) * 16, 2 * sizeof(float));
            fill(std::lround(x + scale * corner[0][0]), std::lround(y + scale * corner[0][1]), std::lround(x + scale * corner[2][0]),
                 std::lround(y + scale * corner[2][1]), c);
        }
    }
    /// A grey image (1×h×w in [0, 1]) enlarged `zoom` times, with a border of width 2.
    void image(const xai::Image& img, long x0, long y0, int zoom, Color border) {
        const long h = static_cast<long>(img.shape(1)), w = static_cast<long>(img.shape(2));
        fill(x0 - 2, y0 - 2, x0 + w * zoom + 2, y0 + h * zoom + 2, border);
        for (long y = 0; y < h * zoom; ++y)
            for (long x = 0; x < w * zoom; ++x) {
                const float v = 1.0f - img(0, static_cast<std::size_t>(y / zoom), static_cast<std::size_t>(x / zoom));
                set(x0 + x, y0 + y, {v, v, v});
            }
    }
    std::size_t width() const { return pixels_.shape(2); }
    std::size_t height() const { return pixels_.shape(1); }
    const xai::Image& pixels() const { return pixels_; }

private:
    xai::Image pixels_;
};

inline constexpr Color black{0, 0, 0}, grey{0.6f, 0.6f, 0.6f}, blue{0.12f, 0.35f, 0.75f}, orange{0.9f, 0.45f, 0.05f},
    green{0.1f, 0.6f, 0.2f}, red{0.8f, 0.1f, 0.1f};

}  // namespace xai_tools
