#include "model/Llama2cFile.h"

#include "core/Error.h"
#include "core/Files.h"
#include "model/LlamaArch.h"

#include <cstring>

namespace mpq {

Llama2cCheckpoint readLlama2cCheckpoint(const std::string& file)
{
    const uint64_t fileSize = files::size(file);
    constexpr uint64_t kHeaderBytes = 7 * sizeof(int32_t);
    if (fileSize < kHeaderBytes)
        throw Error(file + ": too short for a llama2.c header (" + std::to_string(fileSize) + " bytes)");
    int32_t h[7];
    files::readAt(file, 0, kHeaderBytes, h);
    uint32_t magic = 0;
    std::memcpy(&magic, h, 4);
    if (magic == 0x616b3432u)
        throw Error(file + ": this is a llama2.c version-1/2 checkpoint (magic \"ak42\"); only the "
                           "legacy format (7-int32 header, fp32 tensors) is supported");

    const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kvHeads = h[4];
    const int64_t vocabSigned = h[5], seqLen = h[6];
    ModelConfig c;
    c.hiddenSize = dim;
    c.intermediateSize = hidden;
    c.numLayers = layers;
    c.numHeads = heads;
    c.numKvHeads = kvHeads;
    c.vocabSize = vocabSigned < 0 ? -vocabSigned : vocabSigned;
    c.maxPositions = seqLen;
    c.tieWordEmbeddings = vocabSigned > 0;
    c.rmsNormEps = 1e-5;   // llama2.c's run.c
    c.ropeTheta = 10000.0; // llama2.c's model.py
    c.torchDtype = "float32";
    if (heads <= 0 || dim % heads != 0)
        throw Error(file + ": header dim " + std::to_string(dim) + " is not divisible by n_heads " +
                    std::to_string(heads) + " (not a llama2.c legacy checkpoint?)");
    c.headDim = dim / heads;
    c.validate(file);

    const int64_t kvDim = kvHeads * c.headDim;
    uint64_t offset = kHeaderBytes;
    std::vector<TensorEntry> tensors;
    bool keep = false; // first pass: sizes only; the entries are built once the size matches
    auto take = [&](auto nameOf, int64_t i, const std::vector<int64_t>& shape) {
        uint64_t n = 1;
        for (int64_t d : shape)
            n *= static_cast<uint64_t>(d); // validate() bounds every dimension: no overflow
        if (keep) {
            TensorEntry e;
            e.name = nameOf(i);
            e.file = file;
            e.type = StorageType::F32;
            e.shape = shape;
            e.offset = offset;
            e.bytes = n * 4;
            tensors.push_back(std::move(e));
        }
        offset += n * 4;
    };
    // llama2.c stores each kind of tensor for all layers contiguously.
    auto perLayer = [&](auto nameOf, const std::vector<int64_t>& shape) {
        if (!keep) { // a header may claim 4096 layers: size them without building anything
            const uint64_t start = offset;
            take(nameOf, 0, shape);
            offset += (offset - start) * static_cast<uint64_t>(layers - 1);
            return;
        }
        for (int64_t i = 0; i < layers; ++i)
            take(nameOf, i, shape);
    };
    auto single = [](std::string name) { return [name](int64_t) { return name; }; };
    // llama2.c models are dense LLaMAs: the module names of their linears are the dense ones.
    auto linear = [](const char* module) {
        return [module](int64_t i) { return "model.layers." + std::to_string(i) + "." + module + ".weight"; };
    };
    auto layout = [&] {
        offset = kHeaderBytes;
        take(single(llama::embedTensor()), 0, {c.vocabSize, dim});
        perLayer(llama::inputNormTensor, {dim});
        perLayer(linear("self_attn.q_proj"), {dim, dim});
        perLayer(linear("self_attn.k_proj"), {kvDim, dim});
        perLayer(linear("self_attn.v_proj"), {kvDim, dim});
        perLayer(linear("self_attn.o_proj"), {dim, dim});
        perLayer(llama::postAttentionNormTensor, {dim});
        perLayer(linear("mlp.gate_proj"), {hidden, dim});
        perLayer(linear("mlp.down_proj"), {dim, hidden});
        perLayer(linear("mlp.up_proj"), {hidden, dim});
        take(single(llama::finalNormTensor()), 0, {dim});
        offset += 2 * static_cast<uint64_t>(seqLen) * (c.headDim / 2) * 4; // freq_cis_real/imag, unused
        if (!c.tieWordEmbeddings)
            take(single(llama::lmHeadTensor()), 0, {c.vocabSize, dim});
    };
    layout();
    if (offset != fileSize)
        throw Error(file + ": the header (dim " + std::to_string(dim) + ", hidden " +
                    std::to_string(hidden) + ", layers " + std::to_string(layers) + ", heads " +
                    std::to_string(heads) + "/" + std::to_string(kvHeads) + ", vocab " +
                    std::to_string(vocabSigned) + ", seq_len " + std::to_string(seqLen) +
                    ") implies " + std::to_string(offset) + " bytes but the file has " +
                    std::to_string(fileSize));
    keep = true;
    layout();
    for (auto& t : tensors) {
        if (t.name.find(".q_proj.") != std::string::npos)
            t.interleavedRopeHeads = heads;
        else if (t.name.find(".k_proj.") != std::string::npos)
            t.interleavedRopeHeads = kvHeads;
    }
    return {c, std::move(tensors)};
}

} // namespace mpq
