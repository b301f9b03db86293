#pragma once

// What chose a run's plan when a solver chose it (docs/result-folder.md, "extra"): MXQ's mixed
// integer program, a GGUF preset or a GGUF MIP mix. Stored as the JSON object "extra" of
// result.json and as a session run's "extra"; read back into this record, so that no reader
// parses the JSON itself. Plain C++.

#include "alloc/mxq/MxqBudget.h"

#include <map>
#include <optional>
#include <string>

namespace mpq {

struct SolverRecord {
    // ---- The program (mxq, gguf-mxq): empty status when none was solved.
    std::string status;                    ///< "optimal", "feasible", … (mxqStatusName)
    std::string solver;                    ///< "GLPK 5.0 (…)", "lowest calibration loss of 7 plans: …"
    std::string message;                   ///< the solver's line for a person
    std::optional<MxqBudget> budget;       ///< the budget the program was solved under
    std::optional<double> objective;
    std::optional<double> gap;
    std::optional<double> bitsPerParameter; ///< achieved storage (mxq)
    std::optional<double> solveSeconds;
    std::string costKind;                  ///< the cost table's kind ("fnorm", "hessian", …)
    std::string costChoice;                ///< why that kind, when --cost auto chose it
    std::optional<double> costSeconds;
    // ---- GGUF (gguf, gguf-mxq): the llama.cpp type of each tensor.
    std::string ggufPreset;                ///< "q4_k_m" for a preset mix; empty otherwise
    std::map<std::string, std::string> ggufTypes; ///< tensor → type name
    std::optional<double> ggufBitsPerWeight; ///< over every matrix, F16 ones included
    std::optional<bool> imatrix;           ///< the costs were weighted by an importance matrix

    bool empty() const;
    /// The JSON object (keys as docs/result-folder.md lists them); "" when empty().
    std::string toJson() const;
    /// The inverse; "" or "{}" give an empty record, keys it does not know are ignored. Throws
    /// mpq::Error naming `source` when the text is not a JSON object or a key has the wrong type.
    static SolverRecord fromJson(const std::string& text, const std::string& source);
};

} // namespace mpq
