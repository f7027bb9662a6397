#pragma once
// xai-explain's pictures: the photo as shown, each method's map drawn back on it, text labels
// drawn with stb_easy_font (Sean Barrett's public-domain bitmap font from Debian's libstb-dev:
// a header of static functions that turns a string into axis-aligned quads), and the gallery
// that puts the panels side by side.
//
// Display size: the photo at its own size and aspect; a small one (28×28, 64×64) is zoomed by
// the smallest integer factor that makes its longer side at least 192 pixels (28×28 → 196×196,
// 64×64 → 192×192), each pixel a factor×factor block. The map is drawn back on the photo at the
// photo's own size by xai::overlay_on_photo (pytorch-grad-cam's show_cam_on_image where the model
// looked; for a photo that is the model's input, exactly its picture) and that picture is zoomed
// the same way, so every block is one pixel of the photo and one value of the map, as the .npy
// holds it: the picture shows the map at the resolution it has instead of a bilinear blur that
// neither the photo nor the map contains. The part the model did not see is greyed and hatched
// after zooming (lines 1 pixel wide, as on a large photo). Zoomed pictures repeat each row
// `factor` times, which the PNG writer (png_writer.hpp) encodes almost for free. Gallery panels
// are the same pictures shrunk (antialiased) to at most gallery_max_side pixels on their longer
// side.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <stb_easy_font.h>

#include "xai/core/tensor.hpp"
#include "xai/image/antialias.hpp"
#include "xai/image/colormap.hpp"
#include "xai/image/convert.hpp"
#include "xai/image/framing.hpp"
#include "xai/image/map_back.hpp"
#include "xai/image/overlay.hpp"
#include "xai/localization/draw_boxes.hpp"

namespace xai_explain {

/// Smallest side, in pixels, of a displayed picture's longer axis.
inline constexpr std::size_t display_min_side = 192;
/// Largest side, in pixels, of a gallery panel's longer axis.
inline constexpr std::size_t gallery_max_side = 256;

/// The integer enlargement factor for an h×w input (see the header).
inline std::size_t display_factor(std::size_t h, std::size_t w) {
    const std::size_t side = std::max<std::size_t>(1, std::max(h, w));
    return std::max<std::size_t>(1, (display_min_side + side - 1) / side);
}

/// Each pixel repeated factor×factor times (a copy when factor is 1).
inline xai::Image enlarge_nearest(const xai::Image& image, std::size_t factor) {
    if (factor == 1) return image;
    const std::size_t c = image.shape(0), h = image.shape(1), w = image.shape(2), wide = w * factor;
    xai::Image out = xai::Image::from_shape({c, h * factor, wide});
    for (std::size_t ch = 0; ch < c; ++ch)
        for (std::size_t y = 0; y < h; ++y) {
            const float* src = image.data() + (ch * h + y) * w;
            float* first = out.data() + (ch * h + y) * factor * wide;
            for (std::size_t x = 0; x < w; ++x) std::fill_n(first + x * factor, factor, src[x]);
            for (std::size_t r = 1; r < factor; ++r) std::copy_n(first, wide, first + r * wide);
        }
    return out;
}

/// The photo as the pictures show it: RGB, small photos zoomed by display_factor().
inline xai::Image display_image(const xai::Image& photo) {
    return enlarge_nearest(xai::as_rgb(photo), display_factor(photo.shape(1), photo.shape(2)));
}

/// The framing of a photo for its display copy (display_image()).
inline xai::Framing display_framing(const xai::Framing& framing) {
    return framing.enlarged(display_factor(framing.photo_height, framing.photo_width));
}

/// A picture of the photo at its own size (RGB, the part the model did not see left as it is)
/// zoomed by display_factor(), that part greyed and hatched (see the header).
inline xai::Image zoom_and_hatch(const xai::Image& picture, const xai::Framing& framing) {
    const std::size_t factor = display_factor(framing.photo_height, framing.photo_width);
    xai::Image shown = enlarge_nearest(picture, factor);
    const xai::PixelSpan rows = framing.rows(), cols = framing.columns();
    xai::detail::hatch_outside(shown, {rows.begin * factor, rows.end * factor}, {cols.begin * factor, cols.end * factor},
                               xai::PhotoOverlayOptions{}.hatch_spacing);
    return shown;
}

/// The photo as shown beside the maps: display_image(), the part the model did not see greyed
/// and hatched.
inline xai::Image display_photo(const xai::Image& photo, const xai::Framing& framing) {
    return zoom_and_hatch(xai::mark_unexplained(photo, framing, {.mark_unexplained = false}), framing);
}

/// A map (over the model's input, values in [0, 1]) drawn back on the photo, as shown (see the header).
inline xai::Image display_overlay(const xai::Image& photo, const xai::Map& map, const xai::Framing& framing,
                                  xai::Colormap colormap) {
    xai::PhotoOverlayOptions options;
    options.overlay.colormap = colormap;
    options.mark_unexplained = false;
    return zoom_and_hatch(xai::overlay_on_photo(photo, map, framing, options), framing);
}

/// Boxes in the model's input pixels (half-open) drawn on a picture of the photo framed by
/// `framing` (the display copy's): each edge goes back through the crop and the resize, the
/// box growing to whole photo pixels, in magenta, 1 pixel wide per 112 pixels of the shorter side.
inline void draw_boxes_on_photo(xai::Image& picture, const std::vector<xai::Box>& boxes, const xai::Framing& framing) {
    const auto edge = [](std::size_t input, std::size_t first, std::size_t photo, std::size_t resized, bool up) {
        const std::size_t scaled = (input + first) * photo;
        return std::min(photo, (scaled + (up ? resized - 1 : 0)) / resized);
    };
    std::vector<xai::Box> on_photo;
    for (const xai::Box& b : boxes)
        on_photo.push_back({edge(b.top, framing.top, framing.photo_height, framing.resized_height, false),
                            edge(b.left, framing.left, framing.photo_width, framing.resized_width, false),
                            edge(b.bottom, framing.top, framing.photo_height, framing.resized_height, true),
                            edge(b.right, framing.left, framing.photo_width, framing.resized_width, true)});
    const std::size_t thickness = std::max<std::size_t>(1, std::min(picture.shape(1), picture.shape(2)) / 112);
    xai::draw_boxes(picture, on_photo, {1.0f, 0.0f, 1.0f}, thickness);
}

/// The picture shrunk (antialiased) so that its longer side is at most `side` pixels (moved
/// through unchanged when it is not larger).
inline xai::Image shrink_to(xai::Image picture, std::size_t side) {
    const std::size_t h = picture.shape(1), w = picture.shape(2), longer = std::max(h, w);
    if (longer <= side) return picture;
    const auto scaled = [&](std::size_t extent) {
        return std::max<std::size_t>(1, (extent * side + longer / 2) / longer);
    };
    return xai::resize_antialiased(picture, scaled(h), scaled(w));
}

/// `text` in the printable ASCII that stb_easy_font draws (characters 32–126: it indexes its
/// glyph table with `c − 32`, so any other byte — every byte of a UTF-8 sequence, negative as a
/// char — would read outside the table). The non-ASCII characters of the library's method titles
/// and of common class names are spelled out ("Gradient × input" → "Gradient x input",
/// "SmoothGrad²" → "SmoothGrad^2"); any other character, and each control byte, becomes '?'.
inline std::string printable_ascii(const std::string& text) {
    static constexpr std::pair<std::string_view, std::string_view> spelled[] = {
        {"\u00d7", "x"}, {"\u00b2", "^2"}, {"\u2032", "'"}, {"\u2212", "-"}, {"\u2013", "-"}, {"\u2014", "-"},
        {"\u2019", "'"}, {"\u00e9", "e"}, {"\u00e8", "e"}, {"\u00e0", "a"}, {"\u00fc", "u"}, {"\u00f6", "o"},
        {"\u00e4", "a"}, {"\u00b0", " deg"}, {"\u00b1", "+-"}, {"\u2264", "<="}, {"\u2265", ">="}};
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 32 && byte <= 126) {
            out += static_cast<char>(byte);
            ++i;
            continue;
        }
        const std::string_view rest(text.data() + i, text.size() - i);
        const auto known = std::find_if(std::begin(spelled), std::end(spelled),
                                        [&](const auto& entry) { return rest.starts_with(entry.first); });
        if (known != std::end(spelled)) {
            out += known->second;
            i += known->first.size();
            continue;
        }
        out += '?';  // one '?' per character: skip a UTF-8 sequence's continuation bytes
        for (++i; i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0u) == 0x80u; ++i) {
        }
    }
    return out;
}

/// Width in pixels of `text` drawn at `scale` (as printable_ascii(text)).
inline std::size_t text_width(const std::string& text, std::size_t scale) {
    std::string copy = printable_ascii(text);  // stb_easy_font takes char*
    return static_cast<std::size_t>(stb_easy_font_width(copy.data())) * scale;
}

/// Height of one line of text at `scale` (stb_easy_font's glyphs fit in 12 pixels with descenders).
inline std::size_t line_height(std::size_t scale) { return 12 * scale; }

/// `text` cut (with "..") to fit `width` pixels at `scale`.
inline std::string fit_text(std::string text, std::size_t width, std::size_t scale) {
    if (text_width(text, scale) <= width) return text;
    while (!text.empty() && text_width(text + "..", scale) > width) text.pop_back();
    return text + "..";
}

/// Draws `text` (as printable_ascii(text)) on a 3×H×W canvas with its top-left corner at (x, y), each font pixel
/// `scale`×`scale` canvas pixels, clipped to the canvas.
inline void draw_text(xai::Image& canvas, std::size_t x, std::size_t y, const std::string& text, std::size_t scale,
                      const xai::Rgb& color) {
    std::string copy = printable_ascii(text);
    std::vector<char> vertices(copy.size() * 300 + 64);  // stb: ~270 bytes per character
    const int quads = stb_easy_font_print(0.0f, 0.0f, copy.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
    const std::size_t h = canvas.shape(1), w = canvas.shape(2);
        for (int q = 0; q < quads; ++q) {
        float x0 = 1e9f, y0 = 1e9f, x1 = -1e9f, y1 = -1e9f;
        for (int v = 0; v < 4; ++v) {  // a vertex: x, y, z as float, then 4 colour bytes
            float vx = 0.0f, vy = 0.0f;
            std::memcpy(&vx, vertices.data() + (q * 4 + v) * 16, sizeof(float));
            std::memcpy(&vy, vertices.data() + (q * 4 + v) * 16 + 4, sizeof(float));
            x0 = std::min(x0, vx), x1 = std::max(x1, vx), y0 = std::min(y0, vy), y1 = std::max(y1, vy);
        }
        const auto left = x + static_cast<std::size_t>(x0) * scale, right = x + static_cast<std::size_t>(x1) * scale;
        const auto top = y + static_cast<std::size_t>(y0) * scale, bottom = y + static_cast<std::size_t>(y1) * scale;
        for (std::size_t py = top; py < std::min(bottom, h); ++py)
            for (std::size_t px = left; px < std::min(right, w); ++px)
                for (std::size_t c = 0; c < 3; ++c) canvas.data()[(c * h + py) * w + px] = color[c];
    }
}

/// One picture of a gallery with its two lines of label.
struct Panel {
    xai::Image picture;   ///< 3×h×w RGB in [0, 1]
    std::string title;    ///< first line: the method (or the file name for the input)
    std::string caption;  ///< second line: the class explained and its probability
};

/// The panels in rows of at most `columns`, each under its two label lines, on white, drawn on
/// `canvas`, which keeps its memory when it already has the gallery's shape (the writing thread
/// reuses one canvas for every image instead of faulting in fresh pages each time).
inline void compose_gallery(const std::vector<Panel>& panels, std::size_t columns, xai::Image& canvas) {
    const std::size_t gap = 8;
    std::size_t ph = 0, pw = 0;
    for (const Panel& p : panels) ph = std::max(ph, p.picture.shape(1)), pw = std::max(pw, p.picture.shape(2));
    const std::size_t scale = pw >= 180 ? 2 : 1;
    const std::size_t label = 2 * line_height(scale) + gap / 2;
    columns = std::max<std::size_t>(1, std::min(columns, panels.size()));
    const std::size_t rows = (panels.size() + columns - 1) / columns;
    const std::size_t height = gap + rows * (label + ph + gap), width = gap + columns * (pw + gap);
    if (canvas.shape(0) != 3 || canvas.shape(1) != height || canvas.shape(2) != width)
        canvas = xai::Image::from_shape({3, height, width});
    std::fill(canvas.begin(), canvas.end(), 1.0f);
    const xai::Rgb ink{0.1f, 0.1f, 0.1f}, grey{0.35f, 0.35f, 0.35f};
    for (std::size_t i = 0; i < panels.size(); ++i) {
        const Panel& p = panels[i];
        const std::size_t x = gap + (i % columns) * (pw + gap), y = gap + (i / columns) * (label + ph + gap);
        draw_text(canvas, x, y, fit_text(p.title, pw, scale), scale, ink);
        draw_text(canvas, x, y + line_height(scale), fit_text(p.caption, pw, scale), scale, grey);
        const std::size_t h = p.picture.shape(1), w = p.picture.shape(2);
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t r = 0; r < h; ++r)
                std::copy_n(p.picture.data() + (c * h + r) * w, w, canvas.data() + (c * height + y + label + r) * width + x);
    }
}

/// The panels in rows of at most `columns`, each under its two label lines, on white.
inline xai::Image compose_gallery(const std::vector<Panel>& panels, std::size_t columns) {
    xai::Image canvas;
    compose_gallery(panels, columns, canvas);
    return canvas;
}

}  // namespace xai_explain
