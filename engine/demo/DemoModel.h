#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// The embedded demo model (resources/demo/model, docs/packaging.md): a 0.33 M-parameter LLaMA
/// trained by this repository's own tool, with its tokenizer.json and two short texts. It lets a
/// fresh clone or an installed package run every job without the shared data folder.
struct DemoModel {
    std::string dir;       ///< the model folder (config.json, model.safetensors, tokenizer.json)
    std::string validText; ///< demo-valid.txt: the evaluation text
    std::string calibText; ///< demo-calib.txt: the calibration text
    /// The window length to use: the model was trained on 128-token windows only.
    static constexpr int64_t kSeqlen = 128;
};

/// The places looked at for the demo model, in order: $MPQ_DEMO_DIR; share/mpq-workbench/demo
/// beside the running executable's bin/ (an installed or relocated package); the install
/// prefix's share/mpq-workbench/demo (as configured by CMake); the source tree's
/// resources/demo/model (a build tree). Pure; no file is touched.
std::vector<std::string> demoModelCandidates();

/// The first candidate holding config.json. Throws mpq::Error listing every place looked at
/// when none does (a broken installation, or MPQ_DEMO_DIR pointing elsewhere: a set
/// MPQ_DEMO_DIR without the model is an error, not a fallback). Thread-safe.
DemoModel findDemoModel();

} // namespace mpq
