#pragma once

#include "tokenizer/Tokenizer.h"

#include <memory>
#include <string>

namespace mpq {

class ModelSource;

/// The tokenizer file of a folder as transformers chooses it: `tokenizer.json` when present,
/// else `tokenizer.model`; empty when the folder has neither.
std::string findTokenizerFile(const std::string& folder);

/// Opens the tokenizer of a model (ModelSource::tokenizerPath()), with the config's
/// bos_token_id as the BOS of a SentencePiece model that has no BOS piece, and checks that
/// every id fits the model's vocab_size (a config may round the vocabulary up, as Qwen's does).
/// Throws mpq::Error naming the file: no tokenizer found (pass --tokenizer), unreadable or
/// unsupported, or ids beyond the embedding.
std::shared_ptr<const Tokenizer> openModelTokenizer(const ModelSource& source);

} // namespace mpq
