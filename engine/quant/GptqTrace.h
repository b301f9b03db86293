#pragma once

// A step-by-step record of GPTQ on one small matrix, for the workbench's teaching mode
// (issue 19; docs/teaching.md). Plain C++ types: the GUI includes this header.

#include <cstdint>
#include <string>
#include <vector>

namespace mpq {

/// One step of the playback.
struct GptqTraceStep {
    enum class Kind {
        Column,      ///< column `column` quantized; the rest of its block compensated
        BlockUpdate, ///< the block's errors applied to every later column (the lazy batch update)
    };
    Kind kind = Kind::Column;
    int64_t column = -1;          ///< Column: the column quantized (processing order = original order)
    int64_t blockStart = 0;       ///< the block [blockStart, blockEnd)
    int64_t blockEnd = 0;
    /// The working matrix after the step, row-major [rows × cols]: quantized columns hold Q, the
    /// others the error-compensated weights still to be quantized.
    std::vector<float> weights;
    /// weights − the original W: quantization error in the quantized columns, the accumulated
    /// compensation in the others.
    std::vector<float> change;
    /// Column: the column's quantization error w − q per row (before division by Hinv_jj).
    std::vector<float> columnError;
    /// Column: GPTQ's loss of the column, Σ_rows (w − q)² / (2·Hinv_jj²); BlockUpdate: 0.
    double loss = 0;
    /// The largest |change| this step made to a column not yet quantized.
    double maxUpdate = 0;
};

/// GPTQ (per-channel grid, natural column order) on one matrix, every step recorded.
struct GptqTrace {
    std::string tensor;           ///< the matrix, when taken from a session
    int64_t rows = 0, cols = 0;
    int bits = 0;
    int64_t blockSize = 0;
    double damping = 0;           ///< λ added to diag H
    std::vector<float> original;  ///< W [rows × cols]
    std::vector<float> hessianDiagonal;
    std::vector<float> hinvDiagonal; ///< diag of U, the upper Cholesky factor of H⁻¹ (GPTQ's Hinv)
    std::vector<GptqTraceStep> steps;
    std::vector<float> quantized; ///< the final Q (dequantized), [rows × cols]
    double totalLoss = 0;         ///< Σ of the columns' losses
    double rtnOutputError = 0;    ///< tr(ΔW H ΔWᵀ) of round-to-nearest on the same grid, for comparison
    double gptqOutputError = 0;   ///< the same for GPTQ's Q
};

struct GptqTraceOptions {
    int bits = 3;
    int64_t blockSize = 16;       ///< small, so that a 64-column matrix shows four blocks
    double dampPercent = 0.01;
    bool symmetric = false;
    /// Refuse matrices with more cells than this: every step keeps two copies of the matrix.
    int64_t maxCells = 1 << 16;
};

/// Runs GPTQ on W [rows × cols] (row-major) with Hessian H [cols × cols] and records each step.
/// Computes exactly what gptqQuantize computes with the same options (per-channel grid, no
/// act-order, CPU), step by step: the final `quantized` equals its dequantized result.
/// Throws mpq::Error on mismatched sizes, a matrix over maxCells, a bad width, or an H that is
/// not positive definite after damping.
GptqTrace traceGptq(const std::vector<float>& W, int64_t rows, int64_t cols, const std::vector<float>& H,
                    const GptqTraceOptions& options = {});

/// The same on matrix `tensor` of run `run` of a session: W from the base model the run
/// records, H the full Hessian the session stores for it (matrices up to --store-hessian
/// columns). Throws mpq::Error naming what is missing.
GptqTrace traceGptqFromSession(const std::string& sessionPath, const std::string& run, const std::string& tensor,
                               const GptqTraceOptions& options = {});

} // namespace mpq
