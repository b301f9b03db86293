#pragma once

#include "model/ModelConfig.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// The one place that knows LLaMA tensor names and the linears of a decoder layer.
namespace llama {

/// The seven linear matrices of a decoder layer, in execution order.
enum class Linear { Q, K, V, O, Gate, Up, Down };
constexpr std::array<Linear, 7> kLinears = {Linear::Q, Linear::K, Linear::V, Linear::O,
                                            Linear::Gate, Linear::Up, Linear::Down};

/// Short name used in plans, sessions and views ("q_proj", ..., "down_proj").
const char* linearName(Linear l);
/// Hugging Face tensor name of a linear of layer `layer`.
std::string linearTensor(int64_t layer, Linear l);
std::string inputNormTensor(int64_t layer);
std::string postAttentionNormTensor(int64_t layer);
inline const char* embedTensor() { return "model.embed_tokens.weight"; }
inline const char* finalNormTensor() { return "model.norm.weight"; }
inline const char* lmHeadTensor() { return "lm_head.weight"; }

/// Expected [out, in] shape of a linear.
std::vector<int64_t> linearShape(const ModelConfig& c, Linear l);

/// GPTQ's true-sequential groups: linears in a group share one input and are quantized
/// together; each group's inputs are recomputed with the previous groups already quantized.
const std::vector<std::vector<Linear>>& trueSequentialGroups();

struct ExpectedTensor {
    std::string name;
    std::vector<int64_t> shape;
};
/// Every tensor a checkpoint with this config must hold (lm_head only when not tied).
std::vector<ExpectedTensor> expectedTensors(const ModelConfig& c);

} // namespace llama
} // namespace mpq
