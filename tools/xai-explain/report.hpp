#pragma once
// xai-explain --report: one self-contained HTML page per run, <out>/report.html, made from the
// run's summary (records.hpp) and its pictures. It has no script and no outside reference: every
// picture is embedded as a data: URI (a JPEG thumbnail, at most report_thumbnail_side pixels on
// its longer side, so a page of 500 images stays tens of megabytes rather than gigabytes). It
// shows
//   - the model, the settings and the counts (explained, resumed, failed);
//   - per method: the images explained, the mean and total seconds, and with --metrics the mean
//     deletion and insertion AUC, the Average Drop % and the Increase in Confidence %;
//   - per class: how many images the model predicted it for, how many were explained for it,
//     and the mean probability of the prediction;
//   - every failure with its reason;
//   - the gallery: per image, the photo (the part the model did not see hatched) and each
//     method's map on it, with the class, the probability, the time and the metrics.
// Resumed images are shown from the files of the run that made them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gallery.hpp"
#include "models.hpp"
#include "records.hpp"
#include "xai/image/io.hpp"
#include "xai/image/map_back.hpp"

namespace xai_explain {

/// Longest side of a picture in the report, in pixels.
inline constexpr std::size_t report_thumbnail_side = 224;

/// Text made safe for HTML content and attribute values.
inline std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

/// RFC 4648 base64 with padding.
inline std::string base64(const std::vector<std::uint8_t>& bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        const std::uint32_t b0 = bytes[i], b1 = i + 1 < bytes.size() ? bytes[i + 1] : 0u,
                            b2 = i + 2 < bytes.size() ? bytes[i + 2] : 0u;
        const std::uint32_t v = (b0 << 16) | (b1 << 8) | b2;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? alphabet[v & 63] : '=';
    }
    return out;
}

/// A picture as an <img> with a JPEG data URI, shrunk to the report's thumbnail size.
inline std::string embedded_image(const xai::Image& picture, const std::string& alt) {
    xai::SaveOptions options;
    options.jpeg_quality = 85;
    const std::vector<std::uint8_t> jpeg =
        xai::encode_image(shrink_to(picture, report_thumbnail_side), xai::ImageFormat::jpeg, options);
    return "<img src=\"data:image/jpeg;base64," + base64(jpeg) + "\" alt=\"" + html_escape(alt) + "\">";
}

namespace detail {

inline std::string fixed(double v, int digits) {
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
    return buffer;
}

/// Per method: the sums the report's table averages.
struct MethodTotals {
    std::string title;
    std::size_t images = 0;
    double seconds = 0.0;
    std::map<std::string, std::pair<double, std::size_t>> metrics;  ///< name → (sum, count)
};

/// How each metric appears in the report: the record's key, the column heading, the factor to
/// the shown value and its digits.
struct MetricColumn {
    const char* key;
    const char* heading;
    double factor;
    int digits;
};
inline constexpr MetricColumn metric_columns[] = {
    {"deletion_auc", "deletion AUC (lower is better)", 1.0, 3},
    {"insertion_auc", "insertion AUC (higher is better)", 1.0, 3},
    {"drop_percent", "Average Drop % (lower is better)", 1.0, 1},
    {"confidence_increased", "Increase in Confidence % (higher is better)", 100.0, 1},
};

inline const char* report_style() {
    return "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}"
           "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}h3{font-size:1em;margin:0 0 .3em}"
           "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
           "th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
           ".item{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.6em;margin:.8em 0}"
           ".row{display:flex;flex-wrap:wrap;gap:.6em}figure{margin:0;max-width:224px}"
           "figure img{display:block;max-width:224px;height:auto}figcaption{font-size:.8em;color:#444}"
           ".meta{color:#555}.error{color:#a00}";
}

}  // namespace detail

/// Writes the report of the run `summary` (records.hpp) to `path` (see the header).
inline void write_report(const std::filesystem::path& path, const Json& summary, const ModelInfo& info) {
    const std::string program = summary.value("tool", std::string(program_name));
    const Json& model = summary["model"];
    const Json& counts = summary["counts"];
    const Json& images = summary["images"];
    std::vector<std::string> method_order;
    std::map<std::string, detail::MethodTotals> totals;
    std::map<std::size_t, std::size_t> predicted, explained;
    std::map<std::size_t, double> probability;
    for (const Json& record : images) {
        const std::size_t p = record["prediction"]["index"], t = record["target"]["index"];
        ++predicted[p], ++explained[t];
        probability[p] += record["prediction"]["probability"].get<double>();
        for (const Json& m : record["methods"]) {
            const std::string name = m["method"];
            if (totals.find(name) == totals.end()) method_order.push_back(name);
            detail::MethodTotals& total = totals[name];
            total.title = m.value("title", name);
            if (m.contains("error") && !m.contains("seconds")) continue;
            ++total.images;
            total.seconds += m.value("seconds", 0.0);
            if (!m.contains("metrics")) continue;
            for (const auto& [key, value] : m["metrics"].items())
                if (value.is_number()) {
                    auto& [sum, count] = total.metrics[key];
                    sum += value.get<double>();
                    ++count;
                }
        }
    }

    std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                       html_escape(program + " report: " + model.value("source", std::string())) + "</title>\n<style>" +
                       detail::report_style() + "</style>\n</head>\n<body>\n";
    html += "<h1>" + html_escape(program) + " report</h1>\n<p class=\"meta\">model <b>" +
            html_escape(model.value("source", std::string())) + "</b> (" + html_escape(model.value("kind", std::string())) +
            ", input " + html_escape(model["input"].dump()) + ", " + std::to_string(model.value("num_classes", 0)) +
            " classes" + (info.labels.empty() ? ", no class names" : "") + "); " +
            std::to_string(counts.value("images", 0)) + " images: " + std::to_string(counts.value("explained", 0)) +
            " explained, " + std::to_string(counts.value("resumed", 0)) + " resumed, " +
            std::to_string(counts.value("failed", 0)) + " failed; " + detail::fixed(summary.value("seconds", 0.0), 1) +
            " s.</p>\n<p class=\"meta\">settings: " + html_escape(summary["settings"].dump()) + "</p>\n";

    html += "<h2>Methods</h2>\n<table class=\"methods\">\n<thead><tr><th>method</th><th>images</th>"
            "<th>seconds per image (mean)</th><th>seconds (total)</th>";
    std::vector<const detail::MetricColumn*> columns;
    for (const detail::MetricColumn& c : detail::metric_columns)
        if (std::any_of(totals.begin(), totals.end(), [&](const auto& t) { return t.second.metrics.count(c.key) > 0; }))
            columns.push_back(&c);
    for (const detail::MetricColumn* c : columns) html += std::string("<th>") + c->heading + "</th>";
    html += "</tr></thead>\n<tbody>\n";
    for (const std::string& name : method_order) {
        const detail::MethodTotals& t = totals[name];
        html += "<tr><td>" + html_escape(t.title) + "</td><td class=\"n\">" + std::to_string(t.images) + "</td><td class=\"n\">" +
                (t.images ? detail::fixed(t.seconds / static_cast<double>(t.images), 4) : "") + "</td><td class=\"n\">" +
                detail::fixed(t.seconds, 2) + "</td>";
        for (const detail::MetricColumn* c : columns) {
            const auto it = t.metrics.find(c->key);
            html += "<td class=\"n\">" +
                    (it == t.metrics.end() ? std::string()
                                           : detail::fixed(c->factor * it->second.first / static_cast<double>(it->second.second),
                                                           c->digits)) +
                    "</td>";
        }
        html += "</tr>\n";
    }
    html += "</tbody>\n</table>\n";

    html += "<h2>Classes</h2>\n<table class=\"classes\">\n<thead><tr><th>class</th><th>predicted for</th>"
            "<th>explained for</th><th>mean probability of the prediction</th></tr></thead>\n<tbody>\n";
    std::vector<std::size_t> seen;
    for (const auto& [k, n] : predicted) seen.push_back(k);
    for (const auto& [k, n] : explained)
        if (predicted.count(k) == 0) seen.push_back(k);
    std::sort(seen.begin(), seen.end(), [&](std::size_t x, std::size_t y) {
        return predicted[x] != predicted[y] ? predicted[x] > predicted[y] : x < y;
    });
    for (std::size_t k : seen)
        html += "<tr><td>" + html_escape(std::to_string(k) + (k < info.labels.size() ? " " + info.labels[k] : "")) +
                "</td><td class=\"n\">" + std::to_string(predicted[k]) + "</td><td class=\"n\">" + std::to_string(explained[k]) +
                "</td><td class=\"n\">" +
                (predicted[k] ? detail::fixed(100.0 * probability[k] / static_cast<double>(predicted[k]), 1) + "%" : "") +
                "</td></tr>\n";
    html += "</tbody>\n</table>\n";

    if (!summary["failures"].empty()) {
        html += "<h2>Failures</h2>\n<table class=\"failures\">\n<thead><tr><th>image</th><th>what</th><th>reason</th></tr>"
                "</thead>\n<tbody>\n";
        for (const Json& f : summary["failures"])
            html += "<tr><td>" + html_escape(f["image"].is_string() ? f["image"].get<std::string>() : "(all)") + "</td><td>" +
                    html_escape(f.contains("method") ? "method " + f["method"].get<std::string>()
                                                     : f.value("stage", std::string())) +
                    "</td><td class=\"error\">" + html_escape(f.value("error", std::string())) + "</td></tr>\n";
        html += "</tbody>\n</table>\n";
    }

    html += "<h2>Gallery</h2>\n";
    for (const Json& record : images) {
        const std::string file = record["image"];
        const auto class_text = [&](const Json& c) {
            const std::size_t k = c["index"];
            return (k < info.labels.size() ? info.labels[k] : "class " + std::to_string(k)) + " (" +
                   detail::fixed(100.0 * c["probability"].get<double>(), 1) + "%)";
        };
        html += "<section class=\"item\">\n<h3>" + html_escape(file) + (record.value("resumed", false) ? " (resumed)" : "") +
                "</h3>\n<p class=\"meta\">predicted " + html_escape(class_text(record["prediction"])) + ", explained " +
                html_escape(class_text(record["target"])) + "</p>\n<div class=\"row\">\n";
        try {
            const xai::Framing framing = framing_from_json(record["framing"]);
            const xai::Image photo = xai::load_image(file, record["stored"][0].get<std::size_t>() <= 2 ? 1 : 3);
            html += "<figure>" + embedded_image(display_photo(photo, framing), "photo " + file) +
                    "<figcaption>photo</figcaption></figure>\n";
        } catch (const std::exception& e) {
            html += "<figure><figcaption class=\"error\">photo: " + html_escape(first_line(e.what())) + "</figcaption></figure>\n";
        }
        for (const Json& m : record["methods"]) {
            const std::string title = m.value("title", std::string());
            std::string caption = html_escape(title);
            if (m.contains("seconds")) caption += " &middot; " + detail::fixed(m["seconds"].get<double>(), 3) + " s";
            for (const detail::MetricColumn& c : detail::metric_columns)
                if (m.contains("metrics") && m["metrics"].contains(c.key) && m["metrics"][c.key].is_number())
                    caption += "<br>" + html_escape(std::string(c.key)) + " " +
                               detail::fixed(m["metrics"][c.key].get<double>(), c.digits);
            const std::string picture = m.contains("overlay") ? m["overlay"].get<std::string>() : m.value("picture", std::string());
            html += "<figure>";
            if (m.contains("error") && picture.empty()) {
                html += "<figcaption>" + caption + "<br><span class=\"error\">" + html_escape(m["error"].get<std::string>()) +
                        "</span></figcaption>";
            } else {
                try {
                    html += embedded_image(xai::load_image(picture, 3), title + " " + file);
                } catch (const std::exception& e) {
                    caption += "<br><span class=\"error\">" + html_escape(first_line(e.what())) + "</span>";
                }
                html += "<figcaption>" + caption + "</figcaption>";
            }
            html += "</figure>\n";
        }
        html += "</div>\n</section>\n";
    }
    html += "</body>\n</html>\n";
    write_text(path, html);
}

}  // namespace xai_explain
