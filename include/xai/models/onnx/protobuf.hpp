#pragma once
// The ONNX file format (onnx/onnx.proto3) written and read by hand in protobuf's wire format, for
// the few messages and fields xai needs: no protobuf library and no generated code.
//
// Wire format (protobuf encoding guide): a message is a sequence of fields, each a key
// varint (field_number << 3 | wire_type) followed by the value: wire type 0 a varint (int32,
// int64, enums), 5 four little-endian bytes (float), 2 a varint length and that many bytes
// (strings, bytes, embedded messages, packed repeated numbers). Repeated embedded messages are
// the same field written once per element.
//
// Written (OnnxGraph, export.hpp): ModelProto {ir_version 1, producer_name 2, graph 7,
// opset_import 8}, OperatorSetIdProto {domain 1, version 2}, GraphProto {node 1, name 2,
// initializer 5, input 11, output 12}, NodeProto {input 1, output 2, name 3, op_type 4,
// attribute 5}, AttributeProto {name 1, f 2, i 3, ints 8, type 20}, TensorProto {dims 1,
// data_type 2, name 8, raw_data 9}, ValueInfoProto {name 1, type 2}, TypeProto {tensor_type 1},
// TypeProto.Tensor {elem_type 1, shape 2}, TensorShapeProto {dim 1}, Dimension {dim_value 1,
// dim_param 2}.
//
// Read: the first graph input that is not an initializer and its dims (onnx_first_input), which
// is how OnnxModel learns the C×H×W a file expects; the nodes' names and first outputs
// (onnx_nodes), which name its layers.
//
// Needs nothing but the standard library.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xai/core/error.hpp"

namespace xai::models::onnx {

/// Builds one protobuf message field by field (see the header comment for the encoding).
class ProtoWriter {
public:
    /// A varint field (wire type 0): int32, int64 and enum values.
    ProtoWriter& varint(std::uint32_t field, std::int64_t value) {
        key(field, 0);
        put_varint(static_cast<std::uint64_t>(value));
        return *this;
    }
    /// A float field (wire type 5).
    ProtoWriter& f32(std::uint32_t field, float value) {
        key(field, 5);
        char bytes[4];
        std::memcpy(bytes, &value, 4);  // x86 and ARM are little-endian, as the format is
        bytes_.append(bytes, 4);
        return *this;
    }
    /// A length-delimited field (wire type 2): a string, bytes, or an embedded message's bytes.
    ProtoWriter& bytes(std::uint32_t field, std::string_view value) {
        key(field, 2);
        put_varint(value.size());
        bytes_.append(value.data(), value.size());
        return *this;
    }
    /// An embedded message.
    ProtoWriter& message(std::uint32_t field, const ProtoWriter& inner) { return bytes(field, inner.bytes_); }
    /// A packed repeated int64 field.
    ProtoWriter& packed(std::uint32_t field, const std::vector<std::int64_t>& values) {
        ProtoWriter inner;
        for (std::int64_t v : values) inner.put_varint(static_cast<std::uint64_t>(v));
        return bytes(field, inner.bytes_);
    }
    /// The encoded message.
    const std::string& str() const { return bytes_; }

private:
    void key(std::uint32_t field, std::uint32_t wire) { put_varint((static_cast<std::uint64_t>(field) << 3) | wire); }
    void put_varint(std::uint64_t v) {
        while (v >= 0x80) {
            bytes_.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        bytes_.push_back(static_cast<char>(v));
    }
    std::string bytes_;
};

/// One field read from a message: its number, wire type, and value (a varint, or the bytes of
/// a length-delimited field).
struct ProtoField {
    std::uint32_t number = 0;    ///< the field number
    std::uint32_t wire = 0;      ///< 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
    std::uint64_t value = 0;     ///< the varint (wire type 0)
    std::string_view bytes;      ///< the payload (wire type 2)
};

/// Every field of a message, in order; std::nullopt when the bytes are not a well-formed message.
inline std::optional<std::vector<ProtoField>> read_fields(std::string_view data) {
    std::vector<ProtoField> out;
    std::size_t pos = 0;
    auto varint = [&](std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= data.size()) return false;
            const auto byte = static_cast<unsigned char>(data[pos++]);
            v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if (!(byte & 0x80)) return true;
        }
        return false;
    };
    while (pos < data.size()) {
        std::uint64_t key = 0;
        if (!varint(key)) return std::nullopt;
        ProtoField f;
        f.number = static_cast<std::uint32_t>(key >> 3);
        f.wire = static_cast<std::uint32_t>(key & 7);
        if (f.number == 0) return std::nullopt;
        switch (f.wire) {
            case 0:
                if (!varint(f.value)) return std::nullopt;
                break;
            case 1:
                if (data.size() - pos < 8) return std::nullopt;
                pos += 8;
                break;
            case 5:
                if (data.size() - pos < 4) return std::nullopt;
                pos += 4;
                break;
            case 2: {
                std::uint64_t length = 0;
                if (!varint(length) || length > data.size() - pos) return std::nullopt;
                f.bytes = data.substr(pos, static_cast<std::size_t>(length));
                pos += static_cast<std::size_t>(length);
                break;
            }
            default: return std::nullopt;
        }
        out.push_back(f);
    }
    return out;
}

/// A graph input as the file declares it: its name and dims (-1 for a symbolic dim such as "N").
struct OnnxInput {
    std::string name;                 ///< the input's name
    std::vector<std::int64_t> dims;   ///< its dims, -1 where the file gives a name or nothing
};

/// The first input of the file's graph that is not an initializer; std::nullopt when the bytes
/// are not an ONNX model with a graph input.
inline std::optional<OnnxInput> onnx_first_input(std::string_view model) {
    const auto fields = read_fields(model);
    if (!fields) return std::nullopt;
    for (const ProtoField& f : *fields) {
        if (f.number != 7 || f.wire != 2) continue;  // ModelProto.graph
        const auto graph = read_fields(f.bytes);
        if (!graph) return std::nullopt;
        std::vector<std::string_view> initializers;
        for (const ProtoField& g : *graph) {
            if (g.number != 5 || g.wire != 2) continue;  // GraphProto.initializer
            if (const auto t = read_fields(g.bytes))
                for (const ProtoField& tf : *t)
                    if (tf.number == 8 && tf.wire == 2) initializers.push_back(tf.bytes);
        }
        for (const ProtoField& g : *graph) {
            if (g.number != 11 || g.wire != 2) continue;  // GraphProto.input (ValueInfoProto)
            const auto info = read_fields(g.bytes);
            if (!info) return std::nullopt;
            OnnxInput input;
            for (const ProtoField& i : *info) {
                if (i.number == 1 && i.wire == 2) input.name = std::string(i.bytes);
                if (i.number != 2 || i.wire != 2) continue;  // ValueInfoProto.type
                const auto type = read_fields(i.bytes);
                for (const ProtoField& t : type ? *type : std::vector<ProtoField>{}) {
                    if (t.number != 1 || t.wire != 2) continue;  // TypeProto.tensor_type
                    const auto tensor = read_fields(t.bytes);
                    for (const ProtoField& tt : tensor ? *tensor : std::vector<ProtoField>{}) {
                        if (tt.number != 2 || tt.wire != 2) continue;  // shape
                        const auto shape = read_fields(tt.bytes);
                        for (const ProtoField& d : shape ? *shape : std::vector<ProtoField>{}) {
                            if (d.number != 1 || d.wire != 2) continue;  // dim
                            std::int64_t value = -1;
                            const auto dim = read_fields(d.bytes);
                            for (const ProtoField& dv : dim ? *dim : std::vector<ProtoField>{})
                                if (dv.number == 1 && dv.wire == 0) value = static_cast<std::int64_t>(dv.value);
                            input.dims.push_back(value);
                        }
                    }
                }
            }
            const bool is_initializer =
                std::find(initializers.begin(), initializers.end(), std::string_view(input.name)) != initializers.end();
            if (!is_initializer) return input;
        }
        return std::nullopt;
    }
    return std::nullopt;
}

/// A node of the graph: its name (NodeProto.name, may be empty) and its first output's name.
struct OnnxNode {
    std::string name;    ///< NodeProto.name
    std::string output;  ///< the name of its first output tensor
};

/// The nodes of the file's graph in file order (ONNX requires topological order); empty when
/// the bytes are not an ONNX model.
inline std::vector<OnnxNode> onnx_nodes(std::string_view model) {
    std::vector<OnnxNode> out;
    const auto fields = read_fields(model);
    if (!fields) return out;
    for (const ProtoField& f : *fields) {
        if (f.number != 7 || f.wire != 2) continue;  // ModelProto.graph
        const auto graph = read_fields(f.bytes);
        for (const ProtoField& g : graph ? *graph : std::vector<ProtoField>{}) {
            if (g.number != 1 || g.wire != 2) continue;  // GraphProto.node
            const auto node = read_fields(g.bytes);
            OnnxNode n;
            bool first = true;
            for (const ProtoField& nf : node ? *node : std::vector<ProtoField>{}) {
                if (nf.number == 3 && nf.wire == 2) n.name = std::string(nf.bytes);
                if (nf.number == 2 && nf.wire == 2 && first) {
                    n.output = std::string(nf.bytes);
                    first = false;
                }
            }
            out.push_back(std::move(n));
        }
    }
    return out;
}

/// An ONNX graph being built: inputs, outputs, initializers (float tensors) and nodes, written
/// as one ModelProto (IR version 7, opset 13, the default domain).
class OnnxGraph {
public:
    /// An attribute of a node: an int, a list of ints, or a float.
    struct Attribute {
        std::string name;                 ///< e.g. "kernel_shape"
        std::vector<std::int64_t> ints;   ///< INTS (type 7), or INT (type 2) when `single`
        float f = 0.0f;                   ///< FLOAT (type 1) when `is_float`
        bool single = false;              ///< an INT rather than INTS
        bool is_float = false;            ///< a FLOAT
    };
    /// An INT attribute.
    static Attribute int_attribute(std::string name, std::int64_t v) { return {std::move(name), {v}, 0.0f, true, false}; }
    /// An INTS attribute.
    static Attribute ints_attribute(std::string name, std::vector<std::int64_t> v) {
        return {std::move(name), std::move(v), 0.0f, false, false};
    }
    /// A FLOAT attribute.
    static Attribute float_attribute(std::string name, float v) { return {std::move(name), {}, v, false, true}; }

    /// A float input; dims of -1 are written as the symbolic dim "N" (the batch).
    void input(const std::string& name, const std::vector<std::int64_t>& dims) { inputs_.message(11, value_info(name, dims)); }
    /// A float output; -1 dims as for input().
    void output(const std::string& name, const std::vector<std::int64_t>& dims) { outputs_.message(12, value_info(name, dims)); }
    /// A float32 initializer (a weight) with its values in row-major order.
    void initializer(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
        ProtoWriter t;
        t.packed(1, dims).varint(2, 1).bytes(8, name);  // data_type 1 = FLOAT
        t.bytes(9, std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
        initializers_.message(5, t);
    }
    /// A node of the default domain; its name is its first output's.
    void node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
              const std::vector<Attribute>& attributes = {}) {
        ProtoWriter n;
        for (const std::string& in : inputs) n.bytes(1, in);
        for (const std::string& out : outputs) n.bytes(2, out);
        n.bytes(3, outputs.empty() ? op : outputs.front()).bytes(4, op);
        for (const Attribute& a : attributes) {
            ProtoWriter w;
            w.bytes(1, a.name);
            if (a.is_float) {
                w.f32(2, a.f).varint(20, 1);
            } else if (a.single) {
                w.varint(3, a.ints.at(0)).varint(20, 2);
            } else {
                for (std::int64_t v : a.ints) w.varint(8, v);  // unpacked, as onnx's own writer does
                w.varint(20, 7);
            }
            n.message(5, w);
        }
        nodes_.message(1, n);
    }

    /// The ModelProto's bytes.
    std::string bytes(const std::string& graph_name) const {
        ProtoWriter graph;
        graph.bytes(2, graph_name);
        std::string g = nodes_.str() + graph.str() + initializers_.str() + inputs_.str() + outputs_.str();
        ProtoWriter opset;
        opset.bytes(1, "").varint(2, 13);
        ProtoWriter model;
        model.varint(1, 7).bytes(2, "xai").bytes(7, g).message(8, opset);
        return model.str();
    }

    /// Writes the model to `file`; io_error naming the file when it cannot.
    void save(const std::filesystem::path& file, const std::string& graph_name, const char* where) const {
        const std::string data = bytes(graph_name);
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out)
            throw io_error(xai::detail::message(where, ": cannot write '", file.string(), "', expected a writable path"));
    }

private:
    static ProtoWriter value_info(const std::string& name, const std::vector<std::int64_t>& dims) {
        ProtoWriter shape;
        for (std::int64_t d : dims) {
            ProtoWriter dim;
            if (d < 0)
                dim.bytes(2, "N");
            else
                dim.varint(1, d);
            shape.message(1, dim);
        }
        ProtoWriter tensor;
        tensor.varint(1, 1).message(2, shape);  // elem_type 1 = FLOAT
        ProtoWriter type;
        type.message(1, tensor);
        ProtoWriter info;
        info.bytes(1, name).message(2, type);
        return info;
    }

    ProtoWriter nodes_, initializers_, inputs_, outputs_;
};

/// The bytes of a file; io_error naming it when it cannot be read.
inline std::string read_file_bytes(const std::filesystem::path& file, const char* where, const char* expected) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw io_error(xai::detail::message(where, ": '", file.string(), "' does not exist or is not a file, expected ", expected));
    std::ifstream in(file, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw io_error(xai::detail::message(where, ": cannot read '", file.string(), "'"));
    return data;
}

}  // namespace xai::models::onnx
