#pragma once
// Any named submodule of a plain TorchScript classifier (one file whose forward returns the
// logits, written by torch.jit.script(model).save() or torch.jit.trace(model, x).save()), without
// the user re-exporting anything: the forward graph is rewritten so that a submodule's output is
// also returned, or becomes the input of the rest of the network.
//
// How (ScriptLayers):
//  1. The forward graph is copied and inlined call by call. A scripted or traced module calls
//     each submodule as prim::CallMethod[name="forward"](%sub, …) where %sub is a chain of
//     prim::GetAttr from `self`; that chain is the submodule's dotted name ("layer3.1",
//     "features.18", "encoder.layers.encoder_layer_11"). Before the call is replaced by the body
//     of the submodule's forward, the name is read off the chain; the value the inlined body
//     returns is the submodule's output. Calls inside the inlined bodies are handled the same
//     way, so every submodule that runs is found, however deep.
//  2. After each inlining step, conditionals whose condition is known from the module itself
//     (`if self.training`, torchvision's `if self.use_res_connect`, `if self.downsample is not
//     None`: attributes that are not tensors, constants, and not/and/or/comparisons of them) are
//     replaced by the branch they take. Without this, a submodule called inside such a branch
//     (MobileNet's inverted residual) would sit in a nested block, out of reach. The module is
//     in eval() mode; `training` is therefore folded as false.
//  3. The layers that can be chosen are the submodules whose output is a tensor computed in the
//     graph's top-level block. A submodule called several times (a shared ReLU) stands for its
//     last call, like a forward hook that keeps the latest output; forward_from refuses it.
//  4. For a set of layers, a graph returning (logits, clone(a_1), …, clone(a_k)) is built from the
//     inlined one (the clones keep later in-place ops, such as ReLU(inplace=True), from changing
//     what was returned). For one layer, the graph is cut in two after the node that computes
//     it: the prefix (input → the layer's activations and every other value the rest of the
//     network reads) and the suffix (those values → logits). Constants and attribute reads
//     (parameters) are recomputed in the suffix rather than passed. The suffix runs from a leaf
//     that requires a gradient, so the backward pass stops at the layer (TorchModel's rule).
//     When the suffix needs nothing but the layer's activations, it is also forward_from;
//     otherwise (a skip connection around the layer, a ViT's batch size read from the input
//     before the patch embedding) forward_from says which values it would also need.
//
// The rewritten graphs are compiled lazily, once per layer or layer set, and cached; they run
// the module's own parameters (no copies). Everything here is immutable once built, or guarded
// by the cache's mutex, so several threads may run the graphs at once.

#include "xai/core/eigen.hpp"  // first: silences GCC 12's false AVX-512 warnings (also reached through LibTorch)

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/script.h>

#include "xai/core/error.hpp"
#include "xai/models/torch/graph.hpp"

namespace xai::models::detail {

/// One submodule found in the inlined forward graph.
struct ScriptLayer {
    std::string name;                    ///< dotted submodule name, e.g. "layer3.1"
    torch::jit::Value* value = nullptr;  ///< its output (the last call's) in the inlined graph
    std::size_t calls = 0;               ///< how many times forward calls it
};

/// The two halves of the forward graph cut after one layer (see the header comment).
struct ScriptCut {
    std::shared_ptr<torch::jit::GraphFunction> prefix;  ///< (self, x) → (a, extras…)
    std::shared_ptr<torch::jit::GraphFunction> suffix;  ///< (self, a, extras…) → logits
    std::size_t extras = 0;                             ///< how many values besides a the suffix reads
    std::string why_not_reentrant;                      ///< "" when the suffix needs only a
};

/// The inlined forward graph of a plain TorchScript classifier, its layers, and the rewritten
/// graphs built from it (see the header comment).
class ScriptLayers {
public:
    /// Inlines `module`'s forward (the module must already be in eval() mode).
    explicit ScriptLayers(const torch::jit::Module& module) : module_(module) {
        graph_ = module.get_method("forward").graph()->copy();
        if (graph_->inputs().size() != 2)
            throw TorchStructureError(xai::detail::message("its forward takes ", graph_->inputs().size() - 1,
                                                           " arguments, expected one (the input batch)"));
        if (graph_->outputs().size() != 1 || !graph_->outputs()[0]->type()->isSubtypeOf(*c10::TensorType::get()))
            throw TorchStructureError(xai::detail::message("its forward returns ", graph_->outputs()[0]->type()->repr_str(),
                                                           ", expected a Tensor (the logits)"));
        inline_calls();
        collect_layers();
    }

    /// The layers that can be chosen, in the order the network computes them (a block after
    /// the blocks inside it).
    const std::vector<ScriptLayer>& layers() const { return layers_; }

    /// Every submodule that runs, with the reason it cannot be chosen (nested blocks, not a
    /// tensor); for error messages.
    const std::vector<std::pair<std::string, std::string>>& unavailable() const { return unavailable_; }

    /// The layer whose output global average pooling reads ("" when none is found): the input
    /// of the last adaptive_avg_pool2d or mean over the spatial axes, if a layer produces it.
    std::string feature_layer() const {
        std::string found;
        for (torch::jit::Node* n : graph_->block()->nodes()) {
            const bool gap = n->kind() == c10::Symbol::fromQualString("aten::adaptive_avg_pool2d") ||
                             n->kind() == c10::Symbol::fromQualString("aten::mean");
            if (!gap || n->inputs().empty()) continue;
            const torch::jit::Value* in = n->input(0);
            std::string name;
            for (const ScriptLayer& l : layers_)
                if (l.value == in) name = l.name;  // the last listed is the outermost
            if (!name.empty()) found = name;
        }
        return found;
    }

    /// input → (logits, the activations of `layers`) in one pass.
    std::pair<torch::Tensor, std::vector<torch::Tensor>> run_layers(const torch::Tensor& x,
                                                                    const std::vector<std::size_t>& layers) const {
        const std::shared_ptr<torch::jit::GraphFunction> fn = layers_function(layers);
        torch::jit::Stack stack{module_._ivalue(), x};
        fn->run(stack);
        const auto& items = stack.back().toTupleRef().elements();
        std::vector<torch::Tensor> activations;
        for (std::size_t i = 1; i < items.size(); ++i) activations.push_back(items[i].toTensor());
        return {items[0].toTensor(), std::move(activations)};
    }

    /// The cut after `layer`, built on first use.
    std::shared_ptr<const ScriptCut> cut(std::size_t layer) const {
        std::lock_guard lock(mutex_);
        auto& slot = cuts_[layer];
        if (!slot) slot = make_cut(layer);
        return slot;
    }

    /// input → (activations of `layer`, the rest of the network from given activations with
    /// every other value it reads bound): TorchGraph::split.
    std::pair<torch::Tensor, TorchFunction> split(const torch::Tensor& x, std::size_t layer) const {
        std::shared_ptr<const ScriptCut> c = cut(layer);
        torch::jit::Stack stack{module_._ivalue(), x};
        c->prefix->run(stack);
        std::vector<c10::IValue> items = stack.back().toTupleRef().elements().vec();
        torch::Tensor activations = items[0].toTensor();
        TorchFunction rest = [c, items, module = module_](const torch::Tensor& a) {
            torch::jit::Stack s{module._ivalue(), a};
            // Lists are shared objects that the rest may append to (DenseNet's feature list): each
            // call gets its own copy, so the function can be called again.
            for (std::size_t i = 1; i < items.size(); ++i)
                s.push_back(items[i].isList() ? c10::IValue(items[i].toList().copy()) : items[i]);
            c->suffix->run(s);
            return script_tensor(s.back(), "module's rest of forward", "the logits");
        };
        return {std::move(activations), std::move(rest)};
    }

    /// The logits from activations of `layer` alone; TorchStructureError naming the layer and
    /// the reason when the rest of the network needs more than them.
    torch::Tensor head(std::size_t layer, const torch::Tensor& a) const {
        std::shared_ptr<const ScriptCut> c = cut(layer);
        if (!c->why_not_reentrant.empty())
            throw TorchStructureError(xai::detail::message("forward_from cannot run the network from layer '",
                                                           layers_[layer].name, "': ", c->why_not_reentrant));
        torch::jit::Stack s{module_._ivalue(), a};
        c->suffix->run(s);
        return script_tensor(s.back(), "module's rest of forward", "the logits");
    }

private:
    using Value = torch::jit::Value;
    using Node = torch::jit::Node;
    using Graph = torch::jit::Graph;

    torch::jit::Module module_;
    std::shared_ptr<Graph> graph_;
    std::vector<ScriptLayer> calls_;  ///< every submodule call, as inlined (values kept up to date)
    std::vector<ScriptLayer> layers_;
    std::vector<std::pair<std::string, std::string>> unavailable_;
    mutable std::mutex mutex_;
    mutable std::map<std::size_t, std::shared_ptr<const ScriptCut>> cuts_;
    mutable std::map<std::vector<std::size_t>, std::shared_ptr<torch::jit::GraphFunction>> multi_;

    static c10::Symbol sym(const char* name) { return c10::Symbol::fromQualString(name); }

    /// The dotted name of a module value that is a GetAttr chain from self ("" for self).
    std::optional<std::string> module_path(const Value* v) const {
        if (v == graph_->inputs()[0]) return std::string();
        const Node* n = v->node();
        if (n->kind() != c10::prim::GetAttr) return std::nullopt;
        std::optional<std::string> base = module_path(n->input(0));
        if (!base) return std::nullopt;
        const std::string& attr = n->s(c10::attr::name);
        return base->empty() ? attr : *base + "." + attr;
    }

    static Node* first_call(torch::jit::Block* block) {
        for (Node* n : block->nodes()) {
            if (n->kind() == c10::prim::CallMethod || n->kind() == c10::prim::CallFunction) return n;
            for (torch::jit::Block* b : n->blocks())
                if (Node* inner = first_call(b)) return inner;
        }
        return nullptr;
    }

    /// Replaces `call` by the body of `fn`, keeping every recorded output pointing at a live
    /// value (an outer module's output is often the output of a call inside it, which is
    /// inlined later and so destroyed).
    std::vector<Value*> inline_call(Node* call, torch::jit::GraphFunction& fn) {
        const std::vector<Value*> before(call->outputs().begin(), call->outputs().end());
        std::vector<Value*> after = torch::jit::inlineCallTo(call, &fn, fn.graph().get());
        for (ScriptLayer& c : calls_)
            for (std::size_t i = 0; i < before.size(); ++i)
                if (c.value == before[i]) c.value = after[i];
        return after;
    }

    /// "forward", or the "forward1", "forward2", … that torch.jit.trace gives the second and later
    /// calls of a module called several times.
    static bool is_forward(const std::string& method) {
        return method.rfind("forward", 0) == 0 &&
               std::all_of(method.begin() + 7, method.end(), [](char c) { return c >= '0' && c <= '9'; });
    }

    void inline_calls() {
        while (Node* call = first_call(graph_->block())) {
            if (call->kind() == c10::prim::CallFunction) {
                // A free function (TorchScript's F.* helpers): it cannot call submodules.
                const auto type = call->input(0)->type()->expect<c10::FunctionType>();
                call->removeInput(0);
                inline_call(call, torch::jit::toGraphFunction(*type->function()));
                fold_static_conditions();
                continue;
            }
            const auto type = call->input(0)->type()->cast<c10::ClassType>();
            const std::string method = call->s(c10::attr::name);
            if (!type)
                throw TorchStructureError(xai::detail::message("its forward calls method '", method, "' on a value of type ",
                                                               call->input(0)->type()->repr_str(),
                                                               " (an interface), which cannot be inlined"));
            const std::optional<std::string> path = module_path(call->input(0));
            const std::vector<Value*> outputs = inline_call(call, torch::jit::toGraphFunction(type->getMethod(method)));
            if (path && !path->empty() && is_forward(method) && outputs.size() == 1)
                calls_.push_back({*path, outputs[0], 1});
            fold_static_conditions();
        }
    }

    /// The value of `v` when it is known from the module alone (constants, non-tensor
    /// attributes of submodules, and not/is/comparisons/and/or of them).
    std::optional<c10::IValue> static_value(Value* v) const {
        if (v == graph_->inputs()[0]) return c10::IValue(module_._ivalue());
        Node* n = v->node();
        if (n->kind() == c10::prim::Constant) return torch::jit::toIValue(v);
        if (n->kind() == c10::prim::GetAttr) {
            const std::optional<c10::IValue> base = static_value(n->input(0));
            if (!base || !base->isObject()) return std::nullopt;
            c10::IValue attr = base->toObject()->getAttr(n->s(c10::attr::name));
            // Tensors are data (parameters, buffers), never folded.
            if (attr.isTensor() || attr.isTensorList() || attr.isList() || attr.isGenericDict()) return std::nullopt;
            return attr;
        }
        if (n->kind() == c10::prim::If) {
            const std::optional<c10::IValue> cond = static_value(n->input(0));
            if (!cond || !cond->isBool()) return std::nullopt;
            const std::size_t i = v->offset();
            return static_value(n->blocks()[cond->toBool() ? 0 : 1]->outputs()[i]);
        }
        std::vector<c10::IValue> in;
        for (Value* input : n->inputs()) {
            std::optional<c10::IValue> value = static_value(input);
            if (!value) return std::nullopt;
            in.push_back(std::move(*value));
        }
        const c10::Symbol k = n->kind();
        if (k == sym("aten::__not__") && in.size() == 1 && in[0].isBool()) return c10::IValue(!in[0].toBool());
        if ((k == sym("aten::__is__") || k == sym("aten::__isnot__")) && in.size() == 2) {
            const bool same = in[0].isNone() && in[1].isNone();
            if (!in[0].isNone() && !in[1].isNone()) return std::nullopt;  // identity of two objects: not needed
            return c10::IValue(k == sym("aten::__is__") ? same : !same);
        }
        const bool scalars = in.size() == 2 && (in[0].isInt() || in[0].isDouble() || in[0].isBool()) &&
                             (in[1].isInt() || in[1].isDouble() || in[1].isBool());
        if (!scalars) return std::nullopt;
        auto number = [](const c10::IValue& x) {
            return x.isInt() ? static_cast<double>(x.toInt()) : x.isBool() ? (x.toBool() ? 1.0 : 0.0) : x.toDouble();
        };
        const double a = number(in[0]), b = number(in[1]);
        if (k == sym("aten::eq")) return c10::IValue(a == b);
        if (k == sym("aten::ne")) return c10::IValue(a != b);
        if (k == sym("aten::lt")) return c10::IValue(a < b);
        if (k == sym("aten::gt")) return c10::IValue(a > b);
        if (k == sym("aten::le")) return c10::IValue(a <= b);
        if (k == sym("aten::ge")) return c10::IValue(a >= b);
        return std::nullopt;
    }

    static bool inside(const Value* v, const torch::jit::Block* block) {
        for (const torch::jit::Block* b = v->node()->owningBlock(); b != nullptr;) {
            if (b == block) return true;
            const Node* owner = b->owningNode();
            b = owner ? owner->owningBlock() : nullptr;
        }
        return false;
    }

    static void collect_ifs(torch::jit::Block* block, std::vector<Node*>& out) {
        for (Node* n : block->nodes()) {
            if (n->kind() == c10::prim::If) out.push_back(n);
            for (torch::jit::Block* b : n->blocks()) collect_ifs(b, out);
        }
    }

    /// Replaces every prim::If whose condition static_value() knows by the branch it takes.
    void fold_static_conditions() {
        for (bool changed = true; changed;) {
            changed = false;
            std::vector<Node*> ifs;
            collect_ifs(graph_->block(), ifs);
            for (Node* n : ifs) {
                const std::optional<c10::IValue> cond = static_value(n->input(0));
                if (!cond || !cond->isBool()) continue;
                torch::jit::Block* taken = n->blocks()[cond->toBool() ? 0 : 1];
                torch::jit::Block* dropped = n->blocks()[cond->toBool() ? 1 : 0];
                // Calls recorded inside the branch that is dropped never run.
                std::erase_if(calls_, [&](const ScriptLayer& c) { return inside(c.value, dropped); });
                for (auto it = taken->nodes().begin(); it != taken->nodes().end();) {
                    Node* inner = *it;
                    ++it;
                    inner->moveBefore(n);
                }
                for (std::size_t i = 0; i < n->outputs().size(); ++i) {
                    Value* replacement = taken->outputs()[i];
                    for (ScriptLayer& c : calls_)
                        if (c.value == n->output(i)) c.value = replacement;
                    n->output(i)->replaceAllUsesWith(replacement);
                }
                n->destroy();
                changed = true;
                break;  // the list of Ifs may hold nodes of the branch just destroyed
            }
        }
    }

    void collect_layers() {
        std::unordered_map<const Node*, std::size_t> position;
        std::size_t i = 0;
        for (const Node* n : graph_->block()->nodes()) position[n] = ++i;
        // The last call of each name, and the number of calls.
        std::map<std::string, ScriptLayer> last;
        for (const ScriptLayer& c : calls_) {
            auto [it, inserted] = last.try_emplace(c.name, c);
            if (!inserted) {
                it->second.value = c.value;
                ++it->second.calls;
            }
        }
        for (const ScriptLayer& c : calls_) {
            const ScriptLayer& l = last.at(c.name);
            if (l.value != c.value) continue;  // an earlier call of a shared module
            if (std::any_of(layers_.begin(), layers_.end(), [&](const ScriptLayer& x) { return x.name == l.name; }))
                continue;
            const Node* def = l.value->node();
            const bool input = l.value->node()->kind() == c10::prim::Param;
            if (!input && def->owningBlock() != graph_->block()) {
                unavailable_.emplace_back(l.name, "its output is computed inside a loop or a condition of the graph");
                continue;
            }
            if (!l.value->type()->isSubtypeOf(*c10::TensorType::get())) {
                unavailable_.emplace_back(l.name, "its output is a " + l.value->type()->repr_str() + ", not a tensor");
                continue;
            }
            layers_.push_back(l);
        }
        auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '.'); };
        std::stable_sort(layers_.begin(), layers_.end(), [&](const ScriptLayer& a, const ScriptLayer& b) {
            const std::size_t pa = a.value->node()->kind() == c10::prim::Param ? 0 : position.at(a.value->node());
            const std::size_t pb = b.value->node()->kind() == c10::prim::Param ? 0 : position.at(b.value->node());
            if (pa != pb) return pa < pb;
            return depth(a.name) > depth(b.name);  // the same value: the inner module first
        });
    }

    /// A new graph with the inputs of the inlined one, and a map from the old values to the new.
    struct Copy {
        std::shared_ptr<Graph> graph = std::make_shared<Graph>();
        std::unordered_map<const Value*, Value*> map;
    };

    Copy start_copy() const {
        Copy c;
        for (Value* in : graph_->inputs()) c.map[in] = c.graph->addInput()->copyMetadata(in);
        return c;
    }

    /// Clones `n` into the copy (its inputs must be mapped, or recomputable when `recompute`).
    void clone_node(Copy& c, Node* n, bool recompute) const {
        Node* clone = c.graph->insertNode(c.graph->createClone(n, [&](Value* v) { return mapped(c, v, recompute); }));
        for (std::size_t i = 0; i < n->outputs().size(); ++i) c.map[n->output(i)] = clone->output(i);
    }

    Value* mapped(Copy& c, Value* v, bool recompute) const {
        if (auto it = c.map.find(v); it != c.map.end()) return it->second;
        if (recompute && recomputable(v)) {
            clone_node(c, v->node(), true);
            return c.map.at(v);
        }
        throw TorchStructureError("internal error: a value of the graph was used before its definition");
    }

    /// Values the suffix recomputes rather than receives: self, constants, attribute reads of
    /// modules and parameters, and lists or tuples of those.
    bool recomputable(const Value* v) const {
        if (v == graph_->inputs()[0]) return true;
        const Node* n = v->node();
        if (n->kind() == c10::prim::Constant) return true;
        if (n->kind() == c10::prim::GetAttr || n->kind() == c10::prim::ListConstruct ||
            n->kind() == c10::prim::TupleConstruct)
            return std::all_of(n->inputs().begin(), n->inputs().end(), [&](const Value* in) { return recomputable(in); });
        return false;
    }

    static void uses_in(torch::jit::Block* block, std::vector<Value*>& out) {
        for (Node* n : block->nodes()) {
            for (Value* in : n->inputs()) out.push_back(in);
            for (torch::jit::Block* b : n->blocks()) {
                uses_in(b, out);
                for (Value* o : b->outputs()) out.push_back(o);
            }
        }
    }

    std::shared_ptr<torch::jit::GraphFunction> function_of(std::shared_ptr<Graph> graph, const char* name) const {
        torch::jit::EliminateDeadCode(graph);
        return std::make_shared<torch::jit::GraphFunction>(c10::QualifiedName(std::string("xai.") + name), graph, nullptr);
    }

    std::shared_ptr<torch::jit::GraphFunction> layers_function(const std::vector<std::size_t>& layers) const {
        std::lock_guard lock(mutex_);
        auto& slot = multi_[layers];
        if (slot) return slot;
        Copy c = start_copy();
        for (Node* n : graph_->block()->nodes()) clone_node(c, n, false);
        std::vector<Value*> outputs{c.map.at(graph_->outputs()[0])};
        for (std::size_t layer : layers) {
            Value* v = c.map.at(layers_[layer].value);
            torch::jit::WithInsertPoint guard(v->node()->kind() == c10::prim::Param ? c.graph->block()->nodes().front()
                                                                                     : v->node()->next());
            outputs.push_back(c.graph->insert(sym("aten::clone"), {v}));
        }
        Node* tuple = c.graph->insertNode(c.graph->createTuple(outputs));
        c.graph->registerOutput(tuple->output());
        slot = function_of(c.graph, "layers");
        return slot;
    }

    std::shared_ptr<const ScriptCut> make_cut(std::size_t layer) const {
        Value* v = layers_[layer].value;
        const bool is_input = v->node()->kind() == c10::prim::Param;
        std::vector<Node*> before, after;
        bool past = is_input;
        for (Node* n : graph_->block()->nodes()) {
            (past ? after : before).push_back(n);
            if (n == v->node()) past = true;
        }
        std::unordered_set<const Value*> defined_before(graph_->inputs().begin(), graph_->inputs().end());
        for (Node* n : before)
            for (Value* o : n->outputs()) defined_before.insert(o);
        std::vector<Value*> used;
        for (Node* n : after) {
            for (Value* in : n->inputs()) used.push_back(in);
            for (torch::jit::Block* b : n->blocks()) {
                uses_in(b, used);
                for (Value* o : b->outputs()) used.push_back(o);
            }
        }
        used.push_back(graph_->outputs()[0]);
        std::vector<Value*> extras;
        for (Value* u : used)
            if (u != v && defined_before.count(u) && !recomputable(u) &&
                std::find(extras.begin(), extras.end(), u) == extras.end())
                extras.push_back(u);

        auto cut = std::make_shared<ScriptCut>();
        cut->extras = extras.size();
        // Prefix: (self, x) → (v, extras…).
        {
            Copy c = start_copy();
            for (Node* n : before) clone_node(c, n, false);
            std::vector<Value*> outputs{c.map.at(v)};
            for (Value* e : extras) outputs.push_back(c.map.at(e));
            Node* tuple = c.graph->insertNode(c.graph->createTuple(outputs));
            c.graph->registerOutput(tuple->output());
            cut->prefix = function_of(c.graph, "prefix");
        }
        // Suffix: (self, a, extras…) → logits.
        {
            Copy c;
            c.map[graph_->inputs()[0]] = c.graph->addInput()->copyMetadata(graph_->inputs()[0]);
            c.map[v] = c.graph->addInput("activations")->setType(v->type());
            for (Value* e : extras) c.map[e] = c.graph->addInput()->setType(e->type());
            for (Node* n : after) clone_node(c, n, true);
            c.graph->registerOutput(mapped(c, graph_->outputs()[0], true));
            cut->suffix = function_of(c.graph, "suffix");
        }
        if (layers_[layer].calls > 1) {
            cut->why_not_reentrant = xai::detail::message("the module is called ", layers_[layer].calls,
                                                          " times in forward, so its output is not one point of the network");
        } else if (!extras.empty()) {
            std::string list;
            for (std::size_t i = 0; i < extras.size() && i < 4; ++i) {
                const Value* e = extras[i];
                list += (i ? ", " : "") + std::string("%") + e->debugName() + " (" + e->type()->repr_str() + " from " +
                        (e->node()->kind() == c10::prim::Param ? std::string("the input")
                                                               : std::string(e->node()->kind().toQualString())) +
                        ")";
            }
            if (extras.size() > 4) list += ", …";
            cut->why_not_reentrant = xai::detail::message(
                "the rest of the network also reads ", extras.size(), " value(s) computed before this layer that do not flow "
                "through it (a skip connection around it, or a size read from the input): ", list,
                "; choose a layer that everything after it depends on only through its output (e.g. the enclosing block)");
        }
        return cut;
    }
};

/// The TorchGraph of a plain TorchScript classifier: every submodule whose output is a tensor of
/// the top-level graph is a layer (see the header comment).
inline TorchGraph script_plain_graph(const torch::jit::Module& module) {
    auto layers = std::make_shared<const ScriptLayers>(module);
    TorchGraph g;
    g.form = "TorchScript module";
    for (const ScriptLayer& l : layers->layers()) g.layers.push_back(l.name);
    if (g.layers.empty())
        throw TorchStructureError("the TorchScript module's forward calls no submodule whose output is a tensor, so it has "
                                  "no layer to explain (only the black-box methods apply)");
    g.unavailable = layers->unavailable();
    g.feature_layer = layers->feature_layer();
    g.forward = [module](const torch::Tensor& x) {
        torch::jit::Module m = module;
        return script_tensor(m.forward({x}), "module", "the logits");
    };
    g.features = [layers](const torch::Tensor& x, std::size_t layer) { return layers->run_layers(x, {layer}).second[0]; };
    g.head = [layers](std::size_t layer, const torch::Tensor& a) { return layers->head(layer, a); };
    g.split = [layers](const torch::Tensor& x, std::size_t layer) { return layers->split(x, layer); };
    g.multi = [layers](const torch::Tensor& x, const std::vector<std::size_t>& which) { return layers->run_layers(x, which); };
    g.every_layer = [layers, n = g.layers.size()](const torch::Tensor& x) {
        std::vector<std::size_t> all(n);
        for (std::size_t i = 0; i < n; ++i) all[i] = i;
        return layers->run_layers(x, all).second;
    };
    g.parameters = named_parameters_of(module, "");
    return g;
}

}  // namespace xai::models::detail
