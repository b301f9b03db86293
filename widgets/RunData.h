#pragma once

#include "MatrixResult.h"

#include <QMap>
#include <QString>

#include <vector>

namespace mpq::gui {

/// One quantization run as the workbench shows it: where it is, how it was made, its matrices and
/// the perplexities measured on it. Plain data (copied between threads by value).
struct RunData {
    QString name;           ///< unique within a workbench session, e.g. "mgptq α=0.5"
    QString method;         ///< gptq | rtn | hqq | mgptq-gcn | mgptq-mlp | hessian-greedy | mxq
    QString resultDir;      ///< the result folder (docs/result-folder.md); empty for session runs
    QString sessionRun;     ///< the run's name in the workbench's HDF5 session; empty when not in it
    QString status;         ///< the session's run status ("complete", "running", "interrupted", …)
    QString model;          ///< base model path
    double sweepValue = 0;  ///< α, target bits, budget or bits of the sweep point (informative)
    QString sweepAxis;      ///< "alpha", "target-bits", "budget", "bits" or empty
    double avgBits = 0;     ///< code bits per weight
    double avgBitsWithOverhead = 0;
    /// GGUF runs (method "gguf-mxq" or "gguf-<PRESET>"): bits per weight over all the linears, F16
    /// ones included (result.json's extra.bits_per_weight; -1 when unknown) and the mix's name
    /// ("Q4_K_M", "MIP 4.5"; empty when unknown).
    double ggufBitsPerWeight = -1;
    QString ggufMix;
    double seconds = 0;
    bool complete = false;  ///< false while the job is still writing layers
    std::vector<MatrixResult> matrices;
    QMap<QString, double> perplexity; ///< data set ("wikitext2", "c4", …) → perplexity
    QStringList warnings;

    /// The matrix with this tensor name, or nullptr.
    const MatrixResult* find(const QString& tensor) const;
    /// Replaces (by tensor name) or appends matrices, keeping layer/linear order.
    void merge(const std::vector<MatrixResult>& update);
};

} // namespace mpq::gui
