#pragma once
// A small JSON value for xai-explain's run summary: objects keep their insertion order,
// numbers are written in the shortest form that reads back to the same double
// (std::to_chars), and a NaN or an infinity becomes null (JSON has no such numbers).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xai_explain {

class Json {
public:
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;

    Json() = default;  // null
    Json(bool b) : value_(b) {}                                    // NOLINT(google-explicit-constructor)
    Json(double d) : value_(d) {}                                  // NOLINT(google-explicit-constructor)
    Json(int i) : value_(static_cast<double>(i)) {}                // NOLINT(google-explicit-constructor)
    Json(std::size_t n) : value_(static_cast<double>(n)) {}        // NOLINT(google-explicit-constructor)
    Json(std::string s) : value_(std::move(s)) {}                  // NOLINT(google-explicit-constructor)
    Json(std::string_view s) : value_(std::string(s)) {}           // NOLINT(google-explicit-constructor)
    Json(const char* s) : value_(std::string(s)) {}                // NOLINT(google-explicit-constructor)
    Json(Array a) : value_(std::move(a)) {}                        // NOLINT(google-explicit-constructor)
    Json(Object o) : value_(std::move(o)) {}                       // NOLINT(google-explicit-constructor)

    static Json object() { return Json(Object{}); }
    static Json array() { return Json(Array{}); }

    /// Appends a member to an object (keys are not checked for repeats).
    Json& set(std::string key, Json value) {
        std::get<Object>(value_).emplace_back(std::move(key), std::move(value));
        return *this;
    }
    /// Appends an element to an array.
    Json& push(Json value) {
        std::get<Array>(value_).push_back(std::move(value));
        return *this;
    }

    /// True for an object with a member called `key`.
    bool has(const std::string& key) const {
        const Object* o = std::get_if<Object>(&value_);
        return o != nullptr && std::any_of(o->begin(), o->end(), [&](const auto& member) { return member.first == key; });
    }

    /// The text, indented by two spaces per level.
    std::string dump() const {
        std::string out;
        write(out, 0);
        out += '\n';
        return out;
    }

private:
    bool is_container() const {
        return std::holds_alternative<Array>(value_) || std::holds_alternative<Object>(value_);
    }

    static void escape(std::string& out, const std::string& s) {
        out += '"';
        for (const char c : s) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        char buffer[8];
                        std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
                        out += buffer;
                    } else {
                        out += c;
                    }
            }
        }
        out += '"';
    }

    void write(std::string& out, int depth) const {
        const std::string indent(static_cast<std::size_t>(2 * (depth + 1)), ' ');
        const std::string close(static_cast<std::size_t>(2 * depth), ' ');
        if (std::holds_alternative<std::monostate>(value_)) {
            out += "null";
        } else if (const bool* b = std::get_if<bool>(&value_)) {
            out += *b ? "true" : "false";
        } else if (const double* d = std::get_if<double>(&value_)) {
            if (!std::isfinite(*d)) {
                out += "null";
                return;
            }
            char buffer[32];
            const auto result = std::to_chars(buffer, buffer + sizeof buffer, *d);
            out.append(buffer, result.ptr);
        } else if (const std::string* s = std::get_if<std::string>(&value_)) {
            escape(out, *s);
        } else if (const Array* a = std::get_if<Array>(&value_)) {
            if (a->empty()) {
                out += "[]";
                return;
            }
            const bool flat = std::none_of(a->begin(), a->end(), [](const Json& j) { return j.is_container(); });
            out += flat ? "[" : "[\n";
            for (std::size_t i = 0; i < a->size(); ++i) {
                if (!flat) out += indent;
                (*a)[i].write(out, depth + 1);
                if (i + 1 < a->size()) out += flat ? ", " : ",\n";
            }
            out += flat ? "]" : "\n" + close + "]";
        } else {
            const Object& o = std::get<Object>(value_);
            if (o.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            for (std::size_t i = 0; i < o.size(); ++i) {
                out += indent;
                escape(out, o[i].first);
                out += ": ";
                o[i].second.write(out, depth + 1);
                out += i + 1 < o.size() ? ",\n" : "\n";
            }
            out += close + "}";
        }
    }

    std::variant<std::monostate, bool, double, std::string, Array, Object> value_;
};

}  // namespace xai_explain
