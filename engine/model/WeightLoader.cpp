#include "model/detail/WeightLoader.h"

#include "core/Files.h"

namespace mpq::detail {

at::ScalarType scalarType(StorageType t)
{
    switch (t) {
    case StorageType::F32: return at::kFloat;
    case StorageType::F16: return at::kHalf;
    case StorageType::BF16: return at::kBFloat16;
    case StorageType::U8: return at::kByte;
    case StorageType::I32: return at::kInt;
    }
    return at::kFloat;
}

at::Tensor readEntry(const TensorEntry& e)
{
    at::Tensor raw = at::empty(e.shape, at::TensorOptions().dtype(scalarType(e.type)));
    files::readAt(e.file, e.offset, e.bytes, raw.data_ptr());
    return raw;
}

at::Tensor loadTensor(const ModelSource& source, const std::string& name, at::ScalarType dtype,
                      const at::Device& device)
{
    const TensorEntry& e = source.tensor(name);
    at::Tensor raw = at::empty(e.shape, at::TensorOptions().dtype(scalarType(e.type)));
    source.readRaw(e, raw.data_ptr());
    if (e.interleavedRopeHeads > 0) {
        // Rows of each head are (re, im) pairs in llama2.c; Hugging Face keeps all real parts
        // first. Same permutation as transformers' convert_llama_weights_to_hf.
        const int64_t heads = e.interleavedRopeHeads;
        const int64_t rows = e.shape[0], cols = e.shape[1];
        raw = raw.view({heads, rows / heads / 2, 2, cols}).transpose(1, 2).reshape({rows, cols});
    }
    return raw.to(device, dtype).contiguous();
}

} // namespace mpq::detail
