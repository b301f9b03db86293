#pragma once

#include "model/ModelConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// The one place that knows tensor names and the linears of a decoder layer, for every family
/// (docs/model-families.md): the forward pass, the pipeline, sessions, exports and views all
/// take the list of a layer's linears from here.
namespace llama {

/// Where a linear sits; linears of one stage are quantized together and, GPTQ's "true
/// sequential" order, each stage's inputs are recomputed with the earlier stages quantized:
/// [q,k,v] → [o] → [gate,up of the MLP, of every expert and of the shared expert] → [down ...].
enum class Stage { AttentionInput = 0, AttentionOutput = 1, MlpInput = 2, MlpHidden = 3 };
constexpr int kStages = 4;

/// What a linear computes.
enum class Role { Q, K, V, O, Gate, Up, Down };

/// Which MLP a linear belongs to: the dense MLP (or attention), the shared expert, or a routed expert.
constexpr int kDense = -1;
constexpr int kSharedExpert = -2;
/// Not a linear's owner: the input of a mixture-of-experts block seen for all tokens (observers only).
constexpr int kAllTokens = -3;

/// One quantizable linear of a decoder layer.
struct LinearSpec {
    std::string name;   ///< short name in plans, sessions and views: "q_proj", "experts.3.w1", "shared_expert.up_proj"
    std::string tensor; ///< tensor name of the weight [rows, cols]
    std::string bias;   ///< tensor name of its bias, empty when it has none
    int64_t rows = 0;
    int64_t cols = 0;
    Stage stage = Stage::AttentionInput;
    Role role = Role::Q;
    int expert = kDense; ///< kDense, kSharedExpert, or the routed expert's index
};

/// The linears of decoder layer `layer`, in execution order (attention, then the MLP: dense, or
/// shared expert followed by experts 0..E-1, each gate, up, down).
std::vector<LinearSpec> layerLinears(const ModelConfig& c, int64_t layer);
/// Linears that share one input share one Hessian: their group within the layer. Attention and
/// dense MLP groups are the stage numbers 0..3 (as before experts existed); the shared expert
/// takes 2 and 3; routed expert e takes 4 + 2e (gate/up) and 5 + 2e (down).
int hessianGroup(const LinearSpec& s);
int hessianGroup(Stage stage, int expert);
/// The spec of the linear whose weight tensor is `tensor`, or nullptr.
const LinearSpec* findLinear(const std::vector<LinearSpec>& linears, const std::string& tensor);

/// The weight tensor of a linear of a dense layer (attention, or the dense MLP) by its role.
std::string denseLinearTensor(int64_t layer, Role r);
/// The short name of a dense role ("q_proj", ..., "down_proj").
const char* roleName(Role r);
/// The short name of a linear from its weight tensor name (the part after "layers.N.", without
/// ".weight" and the "self_attn."/"mlp."/"block_sparse_moe." prefix): "q_proj", "experts.3.w1".
std::string shortNameOf(const std::string& tensor);
/// The decoder layer of a tensor name "model.layers.N.…", or -1.
int64_t layerOf(const std::string& tensor);

std::string inputNormTensor(int64_t layer);
std::string postAttentionNormTensor(int64_t layer);
std::string qNormTensor(int64_t layer);
std::string kNormTensor(int64_t layer);
/// The router of a mixture-of-experts layer ([experts, hidden]).
std::string routerTensor(const ModelConfig& c, int64_t layer);
/// Qwen2-MoE's gate of the shared expert ([1, hidden]).
std::string sharedExpertGateTensor(int64_t layer);
inline const char* embedTensor() { return "model.embed_tokens.weight"; }
inline const char* finalNormTensor() { return "model.norm.weight"; }
inline const char* lmHeadTensor() { return "lm_head.weight"; }

struct ExpectedTensor {
    std::string name;
    std::vector<int64_t> shape;
};
/// Every tensor a checkpoint with this config must hold (lm_head only when not tied), in the
/// order exports write them.
std::vector<ExpectedTensor> expectedTensors(const ModelConfig& c);

} // namespace llama
} // namespace mpq
