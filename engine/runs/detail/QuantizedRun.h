#pragma once

#include "alloc/AllocationPlan.h"
#include "model/detail/LlamaModel.h"
#include "quant/detail/QuantizedWeight.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mpq::detail {

/// One decoder layer's quantized matrices, by Hugging Face tensor name.
using QuantizedLayer = std::vector<std::pair<std::string, QuantizedWeight>>;

/// A quantization run read back from storage: its base model, the plan as applied and the
/// quantized matrices of each completed decoder layer. Storage formats implement it: result
/// folders (runs/ResultFolderRun.cpp), HDF5 sessions ("FILE#RUN", session/SessionRun.cpp) and
/// packed exports (export/PackedRun.cpp). Consumers (eval, export, the GUI's adapters) use only this.
/// Not thread-safe; tensors come back on the CPU.
class QuantizedRun {
public:
    virtual ~QuantizedRun() = default;
    /// How a person named it ("results/q4", "s.h5#gptq-1"), for messages.
    virtual std::string describe() const = 0;
    /// Absolute path of the base model.
    virtual std::string modelPath() const = 0;
    /// "gptq", "mgptq-gcn", "mxq", …
    virtual std::string method() const = 0;
    /// The allocation plan as applied (per-column bits included).
    virtual AllocationPlan plan() const = 0;
    /// The run's settings as a JSON object (bits, group size, act-order, calibration, …).
    virtual std::string settingsJson() const = 0;
    /// Indices of the decoder layers whose matrices are stored, ascending.
    virtual std::vector<int64_t> layers() const = 0;
    /// The quantized matrices of one stored layer (dequant filled in). Throws mpq::Error.
    virtual QuantizedLayer layer(int64_t index) const = 0;
};

/// A run stored as a folder: a JSON description plus layers/layer-NNN.safetensors (result folders
/// and packed exports). Returns the description's parts as the subclass's constructor set them;
/// the subclass reads the layers.
class FolderRun : public QuantizedRun {
public:
    std::string describe() const override { return m_dir; }
    std::string modelPath() const override { return m_model; }
    std::string method() const override { return m_method; }
    /// Parsed on each call (from the description's "plan"); empty when it has none.
    AllocationPlan plan() const override;
    std::string settingsJson() const override { return m_settings; }
    std::vector<int64_t> layers() const override { return m_layers; }

protected:
    explicit FolderRun(std::string dir) : m_dir(std::move(dir)) {}

    std::string m_dir;
    std::string m_model;
    std::string m_method;
    std::string m_planJson;     ///< the "plan" object, or empty
    std::string m_planSource;   ///< the description file, for plan errors
    std::string m_settings = "{}";
    std::vector<int64_t> m_layers;
};

/// "layer-NNN.safetensors": a decoder layer's file in a result folder or packed export.
std::string layerFileName(int64_t layer);

/// Opens a result folder, "SESSION#RUN" or a packed export. Throws mpq::Error naming the
/// input when it is none of these or is damaged.
std::unique_ptr<QuantizedRun> openQuantizedRun(const std::string& spec);

/// Dequantized weights of every stored matrix, as overrides for the base model.
WeightOverrides runOverrides(const QuantizedRun& run);
/// The same for one decoder layer (empty when the run does not store it), so that layer-streamed
/// evaluation holds one layer's dequantized matrices at a time. Throws mpq::Error on NaN or Inf.
WeightOverrides layerOverrides(const QuantizedRun& run, int64_t layer);

} // namespace mpq::detail
